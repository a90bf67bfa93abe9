#pragma once
// Reports built from a plan and random data, shared by the report model's tests and the tests of
// its read-back (test_report_model.cpp, test_report_json_read.cpp).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "plan/plan.hpp"
#include "shard/block_stats.hpp"
#include "shard/permutation_null.hpp"
#include "stats_test_support.hpp"

namespace lineage::test {

// A Mixtral-style model of `layers` layers: embeddings, final norm, and per layer a norm, a router
// and 3 experts (BF16).
std::vector<tensor_spec> mixtral_specs(int layers);

// Random data of each pair's size (pair p gets seed p); `nonfinite_pair` gets a NaN. The moments
// and the permutation nulls (with the plan's requests) both come from the same data.
struct computed_pairs {
  std::vector<pair_moments> merged;
  std::vector<null_samples> nulls;  // one per pair, as nulls_by_pair gives them
};
computed_pairs compute_pairs(const work_plan& plan, std::size_t nonfinite_pair = SIZE_MAX);

}  // namespace lineage::test
