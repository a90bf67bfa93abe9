#pragma once
// The figures the matching tests report (neuron matching per MLP, hidden matching of the
// embedding, head matching per attention layer): Spearman's test of the two matchings, how often
// they agree, and the combined matching. `Figures` has the members set here
// (neuron_matching_figures, hidden_matching_figures, head_matching_figures).
#include <cstdint>
#include <span>
#include <vector>

#include "reduce/permutation_test.hpp"

namespace lineage {

// `looked_at`: the A objects the matchings were asked to match (a sample of a wide MLP's neurons),
// the denominator of `agreement`; 0 for all of them.
template <class Figures>
void fill_agreement_figures(Figures& f, std::uint64_t ranked, double spearman, std::span<const double> null,
                            double randomizer, const std::vector<std::int32_t>& first,
                            const std::vector<std::int32_t>& second, const std::vector<std::int32_t>& combined,
                            double combined_similarity, std::uint64_t looked_at = 0) {
  f.ranked = ranked;
  f.spearman = spearman;
  const spearman_test test = test_spearman(spearman, ranked, null, randomizer);
  f.z = test.z;
  f.p_closed = test.p_closed;
  f.permutations = test.permutations;
  f.p_permutation = test.p_permutation;
  f.p_value = test.p_value;
  std::size_t same = 0;
  for (std::size_t k = 0; k < first.size(); ++k) {
    same += first[k] >= 0 && first[k] == second[k];
    f.moved += combined[k] >= 0 && combined[k] != static_cast<std::int32_t>(k);
  }
  const std::uint64_t asked = looked_at != 0 ? looked_at : first.size();
  f.agreement = asked == 0 ? 0 : static_cast<double>(same) / static_cast<double>(asked);
  f.combined_similarity = combined_similarity;
  f.combined = combined;
}

}  // namespace lineage
