#pragma once
// Partial results of one rank (block moments, null samples), their wire form, and their merge on
// rank 0 in plan order.
#include <cstdint>
#include <vector>

#include "plan/content_plan.hpp"
#include "plan/plan.hpp"
#include "reduce/rank_run.hpp"
#include "shard/block_stats.hpp"
#include "shard/cross_layer.hpp"
#include "shard/expert_match.hpp"
#include "shard/fingerprint.hpp"
#include "shard/head_match.hpp"
#include "shard/hidden_match.hpp"
#include "shard/neuron_match.hpp"
#include "shard/permutation_null.hpp"

namespace lineage {

struct block_result {
  std::uint64_t block = 0;  // index into work_plan::blocks
  pair_moments moments;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & block & moments;
  }
};

// Everything one rank computed.
struct rank_results {
  std::vector<block_result> blocks;
  std::vector<null_samples> nulls;
  std::vector<cross_layer_result> cross_layers;
  std::vector<expert_match_result> expert_matches;  // the matching phase's results
  std::vector<neuron_match_result> neuron_matches;
  std::vector<hidden_match_result> hidden_matches;  // the first matching phase's results
  std::vector<head_match_result> head_matches;      // the second phase's, beside expert_matches
  std::vector<fingerprint_result> fingerprints;
  std::vector<range_hash> range_hashes;  // the manifest's: blocks' ranges and digest units
  std::vector<file_hash> file_hashes;    // SHA-256 of whole files (--sha256)

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & blocks & nulls & cross_layers & expert_matches & neuron_matches & hidden_matches & head_matches &
        fingerprints & range_hashes & file_hashes;
  }
};

// Boost.Serialization binary archive; exchanged between ranks of one job, and kept by rank 0 for a
// resumed run (job/saved_work.hpp, which checks them first).
std::vector<char> serialize_results(const rank_results& results);
rank_results deserialize_results(const std::vector<char>& bytes);

// A rank's run facts on the wire (gathered to rank 0 for the report's per-rank table).
std::vector<char> serialize_rank_run(const rank_run& run);
rank_run deserialize_rank_run(const std::vector<char>& bytes);

// The null samples of every pair, by pair index (pairs without a null keep usable = false and
// the reason "no null planned"). Throws internal_error if a planned null is missing or repeated.
std::vector<null_samples> nulls_by_pair(const work_plan& plan, const std::vector<rank_results>& per_rank);

// The cross-layer matrices in plan order. Throws internal_error if one is missing or repeated.
std::vector<cross_layer_result> cross_layers_in_plan_order(const work_plan& plan,
                                                           const std::vector<rank_results>& per_rank);

// The expert-matching results in plan order (same errors).
std::vector<expert_match_result> expert_matches_in_plan_order(const work_plan& plan,
                                                              const std::vector<rank_results>& per_rank);

// The neuron-matching results in plan order (same errors).
std::vector<neuron_match_result> neuron_matches_in_plan_order(const work_plan& plan,
                                                              const std::vector<rank_results>& per_rank);

// The hidden-matching results in plan order (same errors).
std::vector<hidden_match_result> hidden_matches_in_plan_order(const work_plan& plan,
                                                              const std::vector<rank_results>& per_rank);

// The fingerprints in plan order (same errors).
std::vector<fingerprint_result> fingerprints_in_plan_order(const work_plan& plan,
                                                           const std::vector<rank_results>& per_rank);
// The head-matching results in plan order (same errors).
std::vector<head_match_result> head_matches_in_plan_order(const work_plan& plan,
                                                          const std::vector<rank_results>& per_rank);

// One pair_moments per tensor pair, each the merge of its blocks in block order. Throws
// internal_error unless every block of the plan is present exactly once.
std::vector<pair_moments> merge_in_plan_order(const work_plan& plan,
                                              const std::vector<rank_results>& per_rank);

}  // namespace lineage
