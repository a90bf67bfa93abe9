# Tensor-name → canonical-key mapping (arch/architecture_*.cpp, configs/architectures/*.yaml).
lineage_add_unit_test(test_architecture_map
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/architecture_test_support.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_architecture_map.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_architecture_rules.cpp
  LIBRARIES lineage_architecture)
