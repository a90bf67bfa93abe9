#include "reduce/expert_figures.hpp"

#include <algorithm>
#include <cmath>

#include "reduce/permutation_test.hpp"

namespace lineage {

std::string expert_matching_figures::where() const {
  return (mtp ? "MTP block " : "layer ") + std::to_string(layer);
}

std::vector<expert_matching_figures> derive_expert_matching(const work_plan& plan) {
  std::vector<expert_matching_figures> all;
  for (std::size_t i = 0; i < plan.expert_matching.size() && i < plan.expert_matches.size(); ++i) {
    const auto& request = plan.expert_matches[i];
    const auto& result = plan.expert_matching[i];
    expert_matching_figures f;
    f.layer = request.layer;
    f.mtp = !request.role_prefix.empty();
    for (const auto& block : request.blocks) f.roles.push_back(block.role);
    f.sample_elements = request.sample_elements();
    f.experts_a = request.experts_a;
    f.experts_b = request.experts_b;
    f.available = result.usable;
    f.reason = result.reason;
    if (!f.available) {
      all.push_back(std::move(f));
      continue;
    }
    f.similarity = result.similarity;
    f.score = result.score;
    const std::size_t columns = f.experts_b.size();
    double same_index = 0;
    std::size_t same_count = 0;
    for (std::size_t e = 0; e < f.experts_a.size(); ++e) {
      const std::int32_t match = result.matched_b[e];
      f.matched_b.push_back(match < 0 ? -1 : f.experts_b[static_cast<std::size_t>(match)]);
      if (match < 0)
        ++f.unmatched_a;
      else if (f.matched_b.back() != f.experts_a[e])
        ++f.moved;
      const auto same = std::find(f.experts_b.begin(), f.experts_b.end(), f.experts_a[e]);
      if (same != f.experts_b.end()) {
        same_index += f.similarity[e * columns + static_cast<std::size_t>(same - f.experts_b.begin())];
        ++same_count;
      }
    }
    f.unmatched_b = f.experts_b.size() - (f.experts_a.size() - f.unmatched_a);
    if (same_count > 0) f.identity_score = same_index / static_cast<double>(same_count);
    f.null_scores = result.null_scores;
    f.permutations = static_cast<std::uint32_t>(f.null_scores.size());
    if (!f.null_scores.empty()) {
      f.null = summarise(f.null_scores);
      const randomized_test t = permutation_test(f.score, f.null_scores, result.randomizer);
      f.z = t.z;
      f.p_value = t.p;
    } else {
      f.available = false;
      f.reason = "no permutations drawn";
    }
    all.push_back(std::move(f));
  }
  return all;
}

}  // namespace lineage
