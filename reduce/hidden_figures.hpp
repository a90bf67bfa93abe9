#pragma once
// What the hidden-dimension matching found (shard/hidden_match.hpp), as the report shows it.
#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.hpp"

namespace lineage {

struct hidden_matching_figures {
  std::string role;  // the tensor whose columns were matched ("embed_tokens.weight")
  bool available = false;
  std::string reason;
  std::uint64_t hidden = 0, hidden_b = 0;  // A's and B's width
  std::uint64_t row_begin = 0, rows = 0;  // the shared rows compared (two halves)
  std::uint64_t ranked = 0;
  double spearman = 0;  // of the matchings on the two halves
  double z = 0;         // ρ·√(n − 1)
  double p_closed = 1;
  std::uint32_t permutations = 0;
  double p_permutation = NAN;
  double p_value = 1;
  double agreement = 0;            // share of dimensions both halves send to the same B dimension
  double combined_similarity = 0;  // mean |Pearson| of the matched columns
  std::vector<std::int32_t> negated;  // A dimensions whose matched B column correlates negatively
  std::size_t moved = 0;           // A dimensions matched to a B dimension of another index
  std::vector<std::int32_t> combined;  // per A dimension, its B dimension
  // Tensor pairs whose B side was read through the recovered permutation (0: not applied, because
  // the matching was not significant at 10⁻³ or found the identity).
  std::size_t aligned_pairs = 0;
};

// One entry per hidden-matching unit of the plan (none, or one), from the results it keeps; none
// when the plan holds no results (the matching phase was not run).
std::vector<hidden_matching_figures> derive_hidden_matching(const work_plan& plan);

}  // namespace lineage
