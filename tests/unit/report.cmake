# The renderings of the report model: report.json's document read back into the model, checked as
# untrusted input, and the report.h5 reader's byte-for-byte re-serialisation check (test_report).
lineage_add_unit_test(test_report
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/stats_test_support.cpp
    ${CMAKE_CURRENT_LIST_DIR}/report_test_support.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_report_json_read.cpp
  LIBRARIES lineage_job)
