#include "reduce/report_model.hpp"

#include <map>

#include "core/error.hpp"

namespace lineage {

comparison_report build_report(const work_plan& plan, const std::vector<pair_moments>& merged,
                               const std::vector<null_samples>& nulls, const unit_results& units,
                               run_manifest manifest, const analysis_options& analysis) {
  const auto& cross_layers = units.cross_layers;
  const double alpha = analysis.alpha;
  if (merged.size() != plan.pairs.size() || nulls.size() != plan.pairs.size())
    throw internal_error("build_report: one merged result and one null per tensor pair expected");
  if (!cross_layers.empty() && cross_layers.size() != plan.cross_layers.size())
    throw internal_error("build_report: one cross-layer result per planned unit expected");
  comparison_report report;
  report.manifest = std::move(manifest);
  report.model_a = plan.model_a;
  report.model_b = plan.model_b;
  report.unpaired = plan.unpaired;
  report.tokenizers = plan.tokenizers;
  for (const auto& u : plan.unpaired) (u.side == 'a' ? report.unpaired_a : report.unpaired_b)++;

  // (role, layer) → merged moments; plan order is key order, so experts merge in ascending order.
  std::map<std::string, std::map<int, role_layer>> by_role;
  for (std::size_t p = 0; p < plan.pairs.size(); ++p) {
    const auto& pair = plan.pairs[p];
    const auto& moments = merged[p];
    const similarity figures = derive_similarity(moments);
    const bool rows = pair.a.shape.size() >= 2 && pair.a.shape[0] >= 2;
    report.tensors.push_back(
        {pair, moments, figures, derive_null_figures(nulls[p], moments, figures.pearson, alpha, rows)});
    report.compared_elements += moments.elements;
    if (moments.nonfinite_a + moments.nonfinite_b > 0) ++report.tensors_with_nonfinite;
    auto& row = by_role[pair.key.role][pair.key.layer];
    row.layer = pair.key.layer;
    row.tensor_pairs += 1;
    row.moments.merge(moments);
  }
  for (auto& [role, layers] : by_role) {
    role_table table{role, {}};
    for (auto& [layer, row] : layers) {
      row.figures = derive_similarity(row.moments);
      table.layers.push_back(row);
    }
    report.roles.push_back(std::move(table));
  }
  report.cross_layers = derive_cross_layer(plan, cross_layers, analysis.seed);
  report.depth = align_depth(report.cross_layers, analysis.seed);
  report.expert_matching = derive_expert_matching(plan);
  report.neuron_matching = derive_neuron_matching(plan, units.neuron_matches);
  report.hidden_matching = derive_hidden_matching(plan);
  report.fingerprints = derive_fingerprints(plan, units.fingerprints, analysis.seed);
  report.head_matching = derive_head_matching(plan);
  report.panel = assess_panel(report, analysis.panel);
  report.evidence = assess_evidence(report, alpha);
  return report;
}

}  // namespace lineage
