#include "reduce/head_figures.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "reduce/agreement_figures.hpp"

namespace lineage {

std::string head_matching_figures::where() const {
  return fmt::format("{} {}", mtp ? "MTP block" : "layer", layer);
}

std::vector<head_matching_figures> derive_head_matching(const work_plan& plan) {
  std::vector<head_matching_figures> all;
  if (plan.head_matching.empty()) return all;  // the matching phase was not run
  if (plan.head_matching.size() != plan.head_matches.size() || plan.head_applied.size() != plan.head_matches.size())
    throw internal_error("derive_head_matching: one result per planned unit expected");
  for (std::size_t i = 0; i < plan.head_matches.size(); ++i) {
    const auto& request = plan.head_matches[i];
    const auto& result = plan.head_matching[i];
    head_matching_figures f;
    f.layer = request.layer;
    f.mtp = !request.prefix.empty();
    f.heads = request.heads;
    f.kv_heads = request.kv_heads;
    f.head_dim = request.head_dim;
    f.columns = request.column_count;
    f.available = result.usable;
    f.reason = result.reason;
    f.applied = plan.head_applied[i] != 0;
    if (f.available) {
      fill_agreement_figures(f, result.ranked, result.spearman, result.null, result.randomizer, result.by_q,
                             result.by_o, result.combined_q, result.combined_similarity);
      f.combined_kv = result.combined_kv;
      f.by_q = result.by_q;
      f.by_k = result.by_k;
    }
    all.push_back(std::move(f));
  }
  return all;
}

}  // namespace lineage
