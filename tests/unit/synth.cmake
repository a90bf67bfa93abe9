# The model generator (synth/): file format, value statistics, derivations (function-preserving
# ones checked by a reference forward pass), MoE models, shared structure, command line.
lineage_add_unit_test(test_synth
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_synth.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_derive.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_layers.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_moe.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_experts.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_permute.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_rescale.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_upcycle.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_function.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_forward.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_structure.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_synth_support.cpp
  LIBRARIES lineage_synth lineage_app)
