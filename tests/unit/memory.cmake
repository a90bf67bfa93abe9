# The memory budget: byte sources (mapped windows released as they go, pread), permutation nulls
# whose bits do not depend on how they read, and the budget check that picks the windows
# (test_memory_budget).
lineage_add_unit_test(test_memory_budget
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/test_byte_source.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_memory_budget.cpp
  LIBRARIES lineage_plan)
