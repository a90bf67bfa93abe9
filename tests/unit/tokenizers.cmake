# Tokenizers: tokenizer.json as untrusted input (every model kind, both merge spellings, every
# malformed case), byte normalisation, vocabulary figures, and the generator's tokenizers.
lineage_add_unit_test(test_tokenizers
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/test_tokenizer_reading.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_tokenizer_errors.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_byte_normalise.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_vocabulary_figures.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_synth_tokenizer.cpp
  LIBRARIES lineage_report lineage_synth)
