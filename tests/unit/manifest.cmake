# The reproducibility manifest: digests of digests, the gaps no block reads, the ranges a plan hashes,
# their merge on rank 0 and the manifest read back from report.h5 (test_manifest).
lineage_add_unit_test(test_manifest
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/stats_test_support.cpp
    ${CMAKE_CURRENT_LIST_DIR}/safetensors_fixture.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_manifest.cpp
  LIBRARIES lineage_job)
