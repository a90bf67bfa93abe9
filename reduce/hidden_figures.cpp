#include "reduce/hidden_figures.hpp"

#include "core/error.hpp"
#include "reduce/permutation_test.hpp"

namespace lineage {

std::vector<hidden_matching_figures> derive_hidden_matching(const work_plan& plan) {
  std::vector<hidden_matching_figures> all;
  if (plan.hidden_matching.empty()) return all;  // the matching phase was not run
  if (plan.hidden_matching.size() != plan.hidden_matches.size())
    throw internal_error("derive_hidden_matching: one result per planned unit expected");
  for (std::size_t i = 0; i < plan.hidden_matches.size(); ++i) {
    const auto& request = plan.hidden_matches[i];
    const auto& result = plan.hidden_matching[i];
    hidden_matching_figures f;
    f.role = request.role;
    f.hidden = request.hidden;
    f.hidden_b = request.hidden_b;
    f.row_begin = request.row_begin;
    f.rows = request.row_count;
    f.available = result.usable;
    f.reason = result.reason;
    if (f.available) {
      f.ranked = result.ranked;
      f.spearman = result.spearman;
      const spearman_test test = test_spearman(result.spearman, result.ranked, result.null, result.randomizer);
      f.z = test.z;
      f.p_closed = test.p_closed;
      f.permutations = test.permutations;
      f.p_permutation = test.p_permutation;
      f.p_value = test.p_value;
      std::size_t same = 0;
      for (std::size_t d = 0; d < result.by_first.size(); ++d) {
        same += result.by_first[d] >= 0 && result.by_first[d] == result.by_second[d];
        f.moved += result.combined[d] >= 0 && result.combined[d] != static_cast<std::int32_t>(d);
      }
      f.agreement = result.by_first.empty() ? 0 : static_cast<double>(same) / static_cast<double>(result.by_first.size());
      f.combined_similarity = result.combined_similarity;
      f.combined = result.combined;
    }
    for (const auto& pair : plan.pairs) f.aligned_pairs += pair.alignment >= 0;
    all.push_back(std::move(f));
  }
  return all;
}

}  // namespace lineage
