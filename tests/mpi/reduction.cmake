# The communicator and the distributed reduction (plan broadcast, per-rank blocks, gather, merge in
# plan order) on 2 and 3 ranks.
lineage_add_mpi_test(test_reduction_mpi
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/test_reduction_mpi.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_communicator_mpi.cpp
    ${CMAKE_CURRENT_LIST_DIR}/../unit/stats_test_support.cpp
  LIBRARIES lineage_mpi lineage_synth
  RANKS 2 3)
