# The checkpoint reader: safetensors headers as untrusted input, checkpoint layouts, mapped ranges.
lineage_add_unit_test(test_checkpoint
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/safetensors_fixture.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_safetensors_header.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_checkpoint.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_mapped_file.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_shape_list.cpp
  LIBRARIES lineage_checkpoint)
