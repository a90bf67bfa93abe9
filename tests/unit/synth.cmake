# The model generator (synth/): file format, value statistics, derivations, MoE models, command
# line.
lineage_add_unit_test(test_synth
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_synth.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_derive.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_layers.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_moe.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_experts.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_support.cpp
  LIBRARIES lineage_synth)
