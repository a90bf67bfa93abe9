# A unit computed by all ranks together (the hidden-dimension matching) on 2 and 3 ranks: its
# shares, its bits against one rank's run, and a failing member.
lineage_add_mpi_test(test_unit_team_mpi
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/test_unit_team_mpi.cpp
    ${CMAKE_CURRENT_LIST_DIR}/../unit/stats_test_support.cpp
    ${CMAKE_CURRENT_LIST_DIR}/../unit/hidden_test_support.cpp
  LIBRARIES lineage_mpi lineage_synth
  RANKS 2 3)
