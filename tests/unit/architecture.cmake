# Tensor-name → canonical-key mapping (mpi/architecture_*.cpp, configs/architectures/*.yaml).
lineage_add_unit_test(test_architecture_map
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_architecture_map.cpp
  LIBRARIES lineage_architecture)
