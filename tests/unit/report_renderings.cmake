# report.html and report.md from the typed report model: figures a test did not make show "–",
# text is escaped, the per-rank table.
lineage_add_unit_test(test_report_renderings
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_report_renderings.cpp
  LIBRARIES lineage_report)
