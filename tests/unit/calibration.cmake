# The calibration study (tests/support) and its test: ≥ 200 independent generated pairs must give
# uniform global p-values and a false-positive rate ≤ 2 % at α = 0.01; derived pairs are caught.
add_library(lineage_calibration_study STATIC ${PROJECT_SOURCE_DIR}/tests/support/calibration_study.cpp)
target_include_directories(lineage_calibration_study PUBLIC ${PROJECT_SOURCE_DIR}/tests/support)
target_link_libraries(lineage_calibration_study PUBLIC lineage_job lineage_synth PRIVATE lineage_options)

lineage_add_unit_test(test_calibration
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_calibration.cpp
  LIBRARIES lineage_calibration_study)
