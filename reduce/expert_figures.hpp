#pragma once
// What the expert matching of each MoE layer found (shard/expert_match.hpp), as the report shows it:
// the matching, its score against the row-shuffle null, and how far it is from pairing by index.
#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.hpp"
#include "reduce/null_figures.hpp"

namespace lineage {

struct expert_matching_figures {
  std::int32_t layer = 0;
  bool mtp = false;  // a multi-token-prediction block (numbered from 0) rather than a main layer
  bool available = false;
  std::string reason;
  std::vector<std::string> roles;                  // the roles sampled
  std::uint64_t sample_elements = 0;               // per expert
  std::vector<std::int32_t> experts_a, experts_b;  // expert indices
  std::vector<std::int32_t> matched_b;             // per A expert: the B expert (index), −1 unmatched
  std::vector<double> similarity;                  // experts_a × experts_b: mean Pearson over roles
  double score = 0;                                // mean similarity of the matched pairs
  double identity_score = NAN;                     // mean similarity of same-index pairs
  std::uint32_t permutations = 0;
  statistic_null null;                             // of the score
  std::vector<double> null_scores;
  double z = 0, p_value = 1;
  std::size_t moved = 0;        // A experts matched to a B expert of another index
  std::size_t unmatched_a = 0, unmatched_b = 0;
  [[nodiscard]] bool is_identity() const noexcept { return available && moved == 0; }
  // "layer 3" or "MTP block 0"
  [[nodiscard]] std::string where() const;
};

std::vector<expert_matching_figures> derive_expert_matching(const work_plan& plan);

}  // namespace lineage
