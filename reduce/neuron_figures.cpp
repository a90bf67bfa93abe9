#include "reduce/neuron_figures.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "reduce/permutation_test.hpp"
#include "reduce/probability.hpp"

namespace lineage {

std::string neuron_matching_figures::where() const {
  std::string stem = group;
  if (!stem.empty() && stem.back() == '.') stem.pop_back();
  return fmt::format("layer {} {}", layer, stem);
}

std::vector<neuron_matching_figures> derive_neuron_matching(const work_plan& plan,
                                                            const std::vector<neuron_match_result>& results) {
  if (!results.empty() && results.size() != plan.neuron_matches.size())
    throw internal_error("derive_neuron_matching: one result per planned unit expected");
  std::vector<neuron_matching_figures> all;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& request = plan.neuron_matches[i];
    const auto& result = results[i];
    neuron_matching_figures f;
    f.layer = request.layer;
    f.group = request.group;
    f.neurons_a = request.neurons_a;
    f.neurons_b = request.neurons_b;
    f.hidden = request.hidden;
    f.columns = request.column_count;
    f.available = result.usable;
    f.reason = result.reason;
    if (f.available) {
      f.ranked = result.ranked;
      f.spearman = result.spearman;
      f.z = result.spearman * std::sqrt(static_cast<double>(result.ranked) - 1);
      f.p_closed = normal_upper_tail(f.z);
      f.permutations = static_cast<std::uint32_t>(result.null.size());
      if (!result.null.empty()) f.p_permutation = permutation_test(result.spearman, result.null, result.randomizer).p;
      f.p_value = result.null.empty() ? std::max(f.p_closed, std::numeric_limits<double>::denorm_min()) : f.p_permutation;
      std::size_t same = 0;
      for (std::size_t n = 0; n < result.by_gate.size(); ++n) {
        same += result.by_gate[n] >= 0 && result.by_gate[n] == result.by_up[n];
        f.moved += result.combined[n] >= 0 && result.combined[n] != static_cast<std::int32_t>(n);
      }
      f.agreement = result.by_gate.empty() ? 0 : static_cast<double>(same) / static_cast<double>(result.by_gate.size());
      f.combined_similarity = result.combined_similarity;
      f.combined = result.combined;
    }
    all.push_back(std::move(f));
  }
  return all;
}

}  // namespace lineage
