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

template <class Figures>
void fill_agreement_figures(Figures& f, std::uint64_t ranked, double spearman, std::span<const double> null,
                            double randomizer, const std::vector<std::int32_t>& first,
                            const std::vector<std::int32_t>& second, const std::vector<std::int32_t>& combined,
                            double combined_similarity) {
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
  f.agreement = first.empty() ? 0 : static_cast<double>(same) / static_cast<double>(first.size());
  f.combined_similarity = combined_similarity;
  f.combined = combined;
}

}  // namespace lineage
