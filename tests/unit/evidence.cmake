# The evidence layer: distribution functions and p-value combinations (test_probability), the
# permutation null against its reference, what it reads and refuses (test_permutation_null*), the
# cyclic group's nulls by FFT (test_null_cyclic), the
# figures drawn from it (test_null_figures), the symmetry groups its
# draws come from (test_symmetry_draw), the verdict (test_evidence), the layer-order tests
# (test_layer_structure), expert matching (test_expert_matching), neuron matching
# (test_neuron_matching; on candidates, test_sparse_matching), hidden-dimension matching (test_hidden_matching), attention-head matching
# (test_head_matching) and shape-free fingerprints (test_fingerprints).
lineage_add_unit_test(test_evidence
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/stats_test_support.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_probability.cpp
    ${CMAKE_CURRENT_LIST_DIR}/permutation_null_support.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_permutation_null.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_permutation_null_reading.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_permutation_null_input.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_null_cyclic.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_null_figures.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_symmetry_draw.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_evidence.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_layer_structure.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_expert_matching.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_neuron_matching.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_sparse_matching.cpp
    ${CMAKE_CURRENT_LIST_DIR}/hidden_test_support.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_hidden_matching.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_fingerprints.cpp
    ${CMAKE_CURRENT_LIST_DIR}/test_head_matching.cpp
  LIBRARIES lineage_reduce lineage_plan lineage_shard Eigen3::Eigen)
