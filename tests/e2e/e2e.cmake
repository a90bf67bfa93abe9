# End-to-end tests: the real `lineage` executable under mpirun (1-3 ranks) on models that
# `lineage synth` writes to disk, with report.h5 read back through Debian's python3-h5py.
# Each test works in its own directory under ${PROJECT_BINARY_DIR}/e2e-work/<test>.
# Run them: ctest -L e2e -j2 --output-on-failure   (about 7 minutes on 2 cores; the longest are
# e2e.faults, e2e.slurm and e2e.memory_budget, a minute or more each)

# This fragment stays at the top of tests/e2e: tests/CMakeLists.txt includes tests/<area>/*.cmake.
set(LINEAGE_E2E_SCENARIOS ${CMAKE_CURRENT_LIST_DIR}/scenarios)

# lineage_add_e2e_test(NAME SCRIPT RANKS [TIMEOUT s] [LABELS ...]): SCRIPT is a file in scenarios/.
function(lineage_add_e2e_test name script ranks)
  cmake_parse_arguments(ARG "" "TIMEOUT" "LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  lineage_add_script_test(e2e.${name}
    COMMAND bash ${LINEAGE_E2E_SCENARIOS}/${script}
    LABELS ${ARG_LABELS}
    PROCESSORS ${ranks}
    TIMEOUT ${ARG_TIMEOUT})
endfunction()

lineage_add_e2e_test(derived derived.sh 2 LABELS statistics)
lineage_add_e2e_test(trap trap.sh 2 LABELS statistics)
lineage_add_e2e_test(depth_alignment depth_alignment.sh 3 LABELS statistics)
lineage_add_e2e_test(expert_matching expert_matching.sh 3 LABELS statistics)
lineage_add_e2e_test(neuron_matching neuron_matching.sh 2 LABELS statistics)
lineage_add_e2e_test(hidden_matching hidden_matching.sh 3 LABELS statistics)
lineage_add_e2e_test(rescaled_norms rescaled_norms.sh 2 LABELS statistics)
lineage_add_e2e_test(disguises disguises.sh 2 LABELS statistics)
lineage_add_e2e_test(registry_search registry_search.sh 3 TIMEOUT 400 LABELS statistics registry browser)
lineage_add_e2e_test(embeddings embeddings.sh 3 TIMEOUT 300 LABELS statistics)
lineage_add_e2e_test(fingerprints fingerprints.sh 3 LABELS statistics)
lineage_add_e2e_test(reference_panel reference_panel.sh 2 TIMEOUT 240 LABELS statistics)
lineage_add_e2e_test(nonfinite nonfinite.sh 2 LABELS statistics)
lineage_add_e2e_test(rank_independence rank_independence.sh 3 LABELS reproducibility)
lineage_add_e2e_test(resume resume.sh 3 TIMEOUT 240 LABELS reproducibility)
lineage_add_e2e_test(memory_budget memory_budget.sh 2 TIMEOUT 300 LABELS resources)
lineage_add_e2e_test(h5_readback h5_readback.sh 2 LABELS report)
lineage_add_e2e_test(manifest manifest.sh 3 TIMEOUT 240 LABELS reproducibility)
lineage_add_e2e_test(terminal_table terminal_table.sh 3 LABELS report)
lineage_add_e2e_test(nothing_in_common nothing_in_common.sh 2 LABELS report)
lineage_add_e2e_test(config_file config_file.sh 2 LABELS usage)
lineage_add_e2e_test(bad_input.models bad_input_models.sh 2 TIMEOUT 240 LABELS errors)
lineage_add_e2e_test(bad_input.usage bad_input_usage.sh 2 TIMEOUT 240 LABELS errors)
lineage_add_e2e_test(failing_rank failing_rank.sh 3 TIMEOUT 240 LABELS errors)
lineage_add_e2e_test(output_full output_full.sh 2 TIMEOUT 240 LABELS errors)
lineage_add_e2e_test(hostile_input hostile_input.sh 2 TIMEOUT 400 LABELS errors)
lineage_add_e2e_test(registry_bad_input registry_bad_input.sh 2 TIMEOUT 240 LABELS errors registry)
lineage_add_e2e_test(faults faults.sh 2 TIMEOUT 400 LABELS faults)
lineage_add_e2e_test(tokenizers tokenizers.sh 1 TIMEOUT 300 LABELS tokenizers)
lineage_add_e2e_test(plan plan.sh 1 TIMEOUT 300 LABELS usage)
lineage_add_e2e_test(report_html report_html.sh 2 TIMEOUT 300 LABELS report browser)
lineage_add_e2e_test(h5_schema h5_schema.sh 2 TIMEOUT 300 LABELS report)
lineage_add_e2e_test(slurm slurm.sh 2 TIMEOUT 600 LABELS slurm)
lineage_add_e2e_test(install install.sh 1 TIMEOUT 300 LABELS install)
