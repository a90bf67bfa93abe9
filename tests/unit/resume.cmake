# Preemption and progress: the saved-work file and its checks, progress text (test_resume).
lineage_add_unit_test(test_resume
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/test_saved_work.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_progress_meter.cpp
  LIBRARIES lineage_job)
