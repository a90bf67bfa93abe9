#include "reduce/hidden_figures.hpp"

#include "core/error.hpp"
#include "reduce/agreement_figures.hpp"

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
      fill_agreement_figures(f, result.ranked, result.spearman, result.null, result.randomizer, result.by_first, result.by_second,
                             result.combined, result.combined_similarity);
      for (std::size_t d = 0; d < result.negated.size(); ++d)
        if (result.negated[d] != 0) f.negated.push_back(static_cast<std::int32_t>(d));
    }
    for (const auto& pair : plan.pairs)
      f.aligned_pairs += pair.pairing.find("hidden matching") != std::string::npos ||
                         pair.pairing.find("hidden rotation") != std::string::npos ||
                         pair.pairing.find("hidden selection") != std::string::npos;
    all.push_back(std::move(f));
  }
  return all;
}

}  // namespace lineage
