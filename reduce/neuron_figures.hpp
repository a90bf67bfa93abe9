#pragma once
// What the neuron matching of each MLP found (shard/neuron_match.hpp), as the report shows it.
#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.hpp"

namespace lineage {

struct neuron_matching_figures {
  std::int32_t layer = 0;
  std::string group;  // the MLP's role stem, e.g. "mlp." or "mtp.mlp.shared_experts."
  bool available = false;
  std::string reason;
  std::uint64_t neurons_a = 0, neurons_b = 0, hidden = 0, columns = 0;
  std::uint64_t ranked = 0;  // neurons in the Spearman sample
  double spearman = 0;       // of the matched orders by gate_proj and by up_proj
  double z = 0;              // ρ·√(n − 1), ≈ N(0, 1) for unrelated models
  double p_closed = 1;       // its upper tail
  std::uint32_t permutations = 0;
  double p_permutation = NAN;  // randomized exact permutation p (K > 0 only)
  double p_value = 1;          // the one the evidence combines: p_permutation when K > 0, else p_closed
  double agreement = 0;        // share of A neurons that both matchings send to the same B neuron
  double combined_similarity = 0;
  std::size_t moved = 0;       // A neurons the combined matching sends to a B neuron of another index
  std::vector<std::int32_t> combined;  // per A neuron, its B neuron (−1: unmatched)
  [[nodiscard]] std::string where() const;  // "layer 3 mlp"
};

std::vector<neuron_matching_figures> derive_neuron_matching(const work_plan& plan,
                                                            const std::vector<neuron_match_result>& results);

}  // namespace lineage
