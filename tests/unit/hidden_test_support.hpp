#pragma once
// Helpers for the hidden-dimension matching tests (test_hidden_matching, and the team's MPI test):
// normal values, a random orthogonal map, a rotated copy of an embedding, and the matching request
// on two written embeddings.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/random_stream.hpp"
#include "shard/hidden_match.hpp"

namespace lineage::test {

std::vector<float> random_values(std::size_t count, random_stream& stream);

// Q, width × width row-major: Gram–Schmidt on normal columns.
std::vector<double> random_orthogonal(std::size_t width, random_stream& stream);

// B = A·Qᵀ + N(0, noise²) per element, A being rows × width row-major.
std::vector<float> rotated_rows(const std::vector<float>& a, std::size_t rows, std::size_t width,
                                const std::vector<double>& q, double noise, random_stream& stream);

// The request on "embed_tokens.weight" of A (rows_a × hidden at `a`) and B (rows_b × hidden_b at
// `b`); the compared rows, the null's K and the seed are the caller's.
hidden_match_request embedding_request(const element_location& a, const element_location& b, std::uint64_t rows_a,
                                       std::uint64_t rows_b, std::uint64_t hidden, std::uint64_t hidden_b);

}  // namespace lineage::test
