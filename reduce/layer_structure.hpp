#pragma once
// Evidence from the order of layers: per role, is the match layer-specific (the diagonal of the
// layer × layer matrix against its off-diagonal), and across roles, the best monotone alignment of
// B's layers to A's (skips and repeats allowed: pruning, depth up-scaling) against shuffled orders.
#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.hpp"
#include "shard/cross_layer.hpp"

namespace lineage {

inline constexpr std::uint32_t layer_order_permutations = 999;

struct cross_layer_figures {
  std::string role;
  std::vector<std::int32_t> layers_a, layers_b;
  std::vector<double> pearson, cosine;  // row-major, layers_a × layers_b
  std::uint64_t sample_elements = 0;
  bool available = false;
  std::string reason;
  // The diagonal test over the layers both models have (same index).
  std::size_t common = 0;
  double diagonal_mean = 0, off_diagonal_mean = 0, off_diagonal_sd = 0;
  std::uint32_t permutations = 0;
  double z = 0;        // (Σ diagonal − null mean) / null sd, over layer-label permutations
  double p_value = 1;  // randomized layer-label permutation p
  std::vector<double> diagonal_rank_p;  // per common layer: share of its row and column ≥ it
};

struct depth_alignment {
  bool available = false;
  std::string reason;
  std::vector<std::int32_t> layers_a, layers_b;
  std::vector<double> similarity;   // mean Pearson over roles, layers_a × layers_b (0 where none)
  std::vector<std::int32_t> matched_a;  // for each layer of B, the A layer it aligns to (monotone)
  double score = 0;                 // mean similarity along the alignment
  std::uint32_t permutations = 0;
  double z = 0;
  double p_value = 1;               // against the same alignment on shuffled B layer orders
  bool is_identity = false;         // every B layer aligns to the A layer of the same index
  std::size_t skipped_a = 0;        // A layers no B layer aligns to
  std::size_t repeated = 0;         // B layers that share their A layer with the previous one
};

std::vector<cross_layer_figures> derive_cross_layer(const work_plan& plan,
                                                    const std::vector<cross_layer_result>& results,
                                                    std::uint64_t seed);

depth_alignment align_depth(const std::vector<cross_layer_figures>& roles, std::uint64_t seed);

}  // namespace lineage
