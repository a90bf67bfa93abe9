# Checks of the tree's shape (no build product needed): each folder includes only the headers of the
# libraries it links, and docs/ARCHITECTURE.md's table says the same (check_layers.py); no function
# is over 80 lines (check_function_length.py).
add_test(NAME layout.layers COMMAND ${LINEAGE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/check_layers.py ${PROJECT_SOURCE_DIR})
add_test(NAME layout.function_length
         COMMAND ${LINEAGE_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/check_function_length.py ${PROJECT_SOURCE_DIR})
set_tests_properties(layout.layers layout.function_length PROPERTIES LABELS layout TIMEOUT 60)
