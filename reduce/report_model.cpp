#include "reduce/report_model.hpp"

#include <map>

#include <fmt/format.h>

#include "core/error.hpp"

namespace lineage {
namespace {

// The expert matching of each MoE layer is a test unit of its own: its null permutes the sampled
// neurons of every B expert, a symmetry the matched experts' own tests do not use.
void add_expert_matching_units(comparison_report& report) {
  for (const auto& m : report.expert_matching) {
    unit_figures f;
    f.kind = "expert matching";
    f.label = m.where() + " expert matching";
    f.layer = m.layer;
    f.group = "the sampled neurons of every expert of B, permuted";
    f.permutations = m.permutations;
    f.members = m.roles.size();
    f.available = m.available && m.permutations > 0;
    f.used = f.available ? f.members : 0;
    f.reason = m.available ? (m.permutations > 0 ? "" : "no permutations drawn") : m.reason;
    f.statistic = m.score;
    f.z = m.z;
    f.p = m.p_value;
    f.p_floor = 1 / (1 + static_cast<double>(m.permutations));
    report.units.push_back(std::move(f));
  }
}

}  // namespace

std::string permuted_axis_text(const tensor_pair& pair) {
  if (pair.test_axis < 0 || static_cast<std::size_t>(pair.test_axis) >= pair.axes.size()) return "";
  const char* where = pair.a.shape.size() == 1 ? "elements" : pair.test_axis == 0 ? "rows" : "columns";
  return fmt::format("{} ({})", where, axis_kind_name(pair.axes[static_cast<std::size_t>(pair.test_axis)]));
}

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
    // A pair read through a hidden rotation has no blocks: its null summed its moments.
    const bool from_null = pair.block_count == 0 && nulls[p].usable && nulls[p].subset;
    const pair_moments& moments = from_null ? nulls[p].tested : merged[p];
    const similarity figures = derive_similarity(moments);
    null_figures null = derive_null_figures(nulls[p], moments, figures.pearson, alpha, permuted_axis_text(pair));
    if (pair.test_unit >= 0) null.test_unit = plan.units.at(static_cast<std::size_t>(pair.test_unit)).label;
    if (!null.available && !pair.untested.empty()) null.reason = pair.untested;
    report.tensors.push_back({pair, moments, figures, std::move(null)});
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
  report.units = derive_unit_figures(plan, nulls, report.tensors);
  add_expert_matching_units(report);
  report.neuron_matching = derive_neuron_matching(plan, units.neuron_matches);
  report.hidden_matching = derive_hidden_matching(plan);
  report.fingerprints = derive_fingerprints(plan, units.fingerprints, analysis.seed);
  report.head_matching = derive_head_matching(plan);
  report.panel = assess_panel(report, analysis.panel);
  report.evidence = assess_evidence(report, alpha);
  return report;
}

}  // namespace lineage
