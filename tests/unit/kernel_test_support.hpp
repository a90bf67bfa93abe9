#pragma once
// Shared by the kernel tests (test_kernel.cpp, test_kernel_equality.cpp): the runnable variants,
// and test data of every dtype with and without non-finite values.
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "core/dtype.hpp"
#include "shard/kernel.hpp"
#include "stats_test_support.hpp"

namespace lineage::kernel_test {

using test::typed_vector;

// Every kernel variant this machine can run (the generic one first).
std::vector<kernel_variant> variants();
bool is_f8(dtype t);
// A random finite code of an 8-bit type (uniform over codes: spans subnormals to the maximum).
std::uint64_t random_finite_f8(dtype type, std::mt19937_64& engine);
// Correlated realistic data: a ~ N(0.3, 1); b = 0.8 a + 0.6 N(0, 1) (rounded to each type). An
// 8-bit side gets uniformly random finite codes instead.
std::pair<typed_vector, typed_vector> realistic_pair(dtype ta, dtype tb, std::size_t n, std::uint64_t seed);
// Puts NaN and ±Inf (F8_E4M3: NaN only) at fixed positions on both sides, spread over chunks.
void inject_nonfinite(typed_vector& a, typed_vector& b);

}  // namespace lineage::kernel_test
