# The registry behind `lineage index` and `lineage search`: token keys and their sample, the
# fingerprint file read back and refused when damaged or lying (test_registry_file), one member's
# evidence — calibrated on independent fingerprints, decisive on derived ones — and the search's
# correction across members (test_registry_search).
lineage_add_unit_test(test_registry
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_registry_file.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_registry_search.cpp
          ${CMAKE_CURRENT_LIST_DIR}/registry_test_support.cpp
  LIBRARIES lineage_registry)
