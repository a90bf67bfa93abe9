# The statistics core: dtype decoding, the kernel and its variants, mergeable moments, derived
# figures, content hashes, display text, atomic outputs (test_stats); the plan, the job config and
# the report model (test_plan_report).
lineage_add_unit_test(test_stats
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/stats_test_support.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_dtype.cpp
    ${CMAKE_CURRENT_LIST_DIR}/kernel_test_support.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_kernel.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_kernel_equality.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_block_stats.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_tensor_stats.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_content_hash.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_display_text.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_atomic_output.cpp
  LIBRARIES lineage_reduce lineage_plan)
lineage_add_unit_test(test_plan_report
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/stats_test_support.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_plan.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_plan_units.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_time_estimate.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_plan_experts.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_plan_tokens.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_job_config.cpp
    ${CMAKE_CURRENT_LIST_DIR}/report_test_support.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_report_model.cpp
  LIBRARIES lineage_job)
