#include "reduce/neuron_figures.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "reduce/permutation_test.hpp"

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
      const spearman_test test = test_spearman(result.spearman, result.ranked, result.null, result.randomizer);
      f.z = test.z;
      f.p_closed = test.p_closed;
      f.permutations = test.permutations;
      f.p_permutation = test.p_permutation;
      f.p_value = test.p_value;
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
