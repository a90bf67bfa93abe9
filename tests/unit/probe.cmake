# lineage plan --measure-speed (probe/): the probe's processes run at once and report back, every
# unit of a comparison timed by kind, and the probe itself in a scratch directory it leaves empty.
lineage_add_unit_test(test_probe
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/safetensors_fixture.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_probe.cpp
  LIBRARIES lineage_probe lineage_job lineage_synth)
