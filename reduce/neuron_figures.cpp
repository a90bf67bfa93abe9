#include "reduce/neuron_figures.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "reduce/agreement_figures.hpp"

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
      fill_agreement_figures(f, result.ranked, result.spearman, result.null, result.randomizer, result.by_gate, result.by_up,
                             result.combined, result.combined_similarity, request.matched());
    }
    all.push_back(std::move(f));
  }
  return all;
}

}  // namespace lineage
