# e2e.config_file: a YAML job file (model_a, model_b, output, block_elements) configures the run,
# and command-line values override it (2 ranks). Paths in the job file are relative to the working
# directory, as configs/demo.yaml says.
source "$(dirname "$0")/../common.sh"
e2e_begin config_file

synth independent --seed 101 -o A
synth derive --from A -o B --kind drift --scale 0.05
synth derive --from A -o C --kind copy

cat > job.yaml << 'EOF'
# a job file as a user writes one
model_a: A
model_b: B
output: out-yaml
block_elements: 50000
EOF

note "the job file alone"
compare 2 A B -o out-cli --block-elements 50000
compare 2 --config job.yaml
expect_report out-yaml
grep -q "^report: out-yaml/report.h5$" "$RUN_OUT" || fail "the run does not report out-yaml/report.h5: $(tail -3 "$RUN_OUT")"
check check_config.py out-yaml job.yaml A B out-yaml 50000 out-cli

note "-o on the command line overrides output:"
rm -rf out-yaml
compare 2 --config job.yaml -o out-override
expect_report out-override
[[ -e out-yaml ]] && fail "the job file's output directory was used although -o overrides it"
check check_config.py out-override job.yaml A B out-override 50000 out-cli

note "positional models and --block-elements override the job file too"
compare 2 --config job.yaml A C -o out-positional --block-elements 70000
expect_report out-positional
[[ -e out-yaml ]] && fail "the job file's output directory was used although -o overrides it"
check check_config.py out-positional job.yaml A C out-positional 70000
check check_derived.py identical out-positional

note "evidence switched off in the job file, a budget, the read I/O mode and random draws: the report says so"
cat > switches.yaml << 'EOF2'
model_a: A
model_b: B
output: out-switches
block_elements: 50000
permutations_matrix: 50
permutations_vector: 200
cross_layer: false
fingerprints: false
tokenizers: false
memory_budget: 2GiB
io_mode: read
null_draws: random
EOF2
compare 2 --config switches.yaml
expect_report out-switches
"$PYTHON" - out-switches/report.json << 'PY' || fail "the switched-off evidence is in the report (see above)"
import json, sys
report = json.load(open(sys.argv[1]))
config = report["manifest"]["config"]
assert config["cross_layer"] is False and config["fingerprints"] is False and config["tokenizers"] is False, config
assert config["memory_budget"] == 2 << 30 and config["io_mode"] == "read", config
assert config["null_draws"] == "random", config
forms = {u["group_spec"]["form"] for u in report["units"]}
assert "cyclic" not in forms and "plain" in forms, forms
cross = report["layer_structure"]["cross_layer"]
assert not cross, f"cross-layer matrices although cross_layer: false: {len(cross)}"
fingerprints = report["fingerprints"]
assert not fingerprints["pairs"] and "fingerprints: false" in fingerprints["test"]["reason"], fingerprints
tokenizers = report["tokenizers"]
assert tokenizers["available"] is False and "switched off" in tokenizers["reason"], tokenizers
print("cross_layer, fingerprints and tokenizers off; budget, I/O mode and random draws recorded")
PY

note "a bad value names the file and key and the allowed values; no rank waits"
printf 'model_a: A\nmodel_b: B\noutput: out-bad\nio_mode: mmap\n' > bad.yaml
RUN_NAME=bad mpi_run 2 compare --config bad.yaml
((RUN_STATUS == 2)) || { show_run; fail "a bad io_mode exited $RUN_STATUS, expected 2"; }
line=$(expect_one_error_line "$RUN_ERR") || fail "see above"
[[ $line == *bad.yaml* && $line == *"'io_mode'"* && $line == *"map, read"* ]] || fail "the error does not name file, key and allowed values: $line"
[[ -e out-bad/report.h5 ]] && fail "a rejected job file left a report"

e2e_done
