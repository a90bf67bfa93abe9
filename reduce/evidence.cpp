#include "reduce/evidence.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "reduce/report_model.hpp"

namespace lineage {
namespace {

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }
bool starts_with(std::string_view text, std::string_view prefix) { return text.rfind(prefix, 0) == 0; }

// Identical means the same tensors under the same names: anything the matching moved, any pair of
// shared tokens, any unpaired tensor rules it out.
bool all_equal(const comparison_report& report) {
  const bool experts_in_place = std::all_of(report.expert_matching.begin(), report.expert_matching.end(),
                                            [](const expert_matching_figures& m) { return m.moved == 0; });
  const bool hidden_in_place = std::all_of(report.hidden_matching.begin(), report.hidden_matching.end(),
                                           [](const hidden_matching_figures& m) { return m.aligned_pairs == 0; });
  const bool heads_in_place = std::none_of(report.head_matching.begin(), report.head_matching.end(),
                                           [](const head_matching_figures& m) { return m.applied; });
  const bool token_paired = std::any_of(report.tensors.begin(), report.tensors.end(), [](const tensor_result& t) {
    return t.pair.pairing.find("shared tokens") != std::string::npos;
  });
  return !report.tensors.empty() && report.unpaired.empty() && experts_in_place && hidden_in_place &&
         heads_in_place && !token_paired &&
         std::all_of(report.tensors.begin(), report.tensors.end(), [](const tensor_result& t) {
           return t.moments.elements == 0 || t.moments.bitwise_equal == t.moments.elements;
         });
}

// Share of the smaller model's parameters in a tested unit.
double tested_share(const comparison_report& report) {
  std::uint64_t tested = 0;
  for (const auto& t : report.tensors)
    if (t.null.available && !t.null.test_unit.empty()) tested += t.moments.elements;
  const double smaller =
      static_cast<double>(std::min(report.model_a.parameter_count, report.model_b.parameter_count));
  return smaller > 0 ? static_cast<double>(tested) / smaller : 0;
}

// Fisher over every available unit, joined with the reference panel by Šidák; and the smallest
// value those tests can give.
void global_p(verdict_report& verdict, const comparison_report& report, const std::vector<group_evidence>& families) {
  std::vector<double> p_values, floors;
  for (const auto& u : report.units)
    if (u.available) p_values.push_back(u.p), floors.push_back(u.p_floor);
  verdict.units = p_values.size();
  double p = p_values.empty() ? 1.0 : fisher_combination(p_values).p;
  double floor = p_values.empty() ? 1.0 : fisher_combination(floors).p;
  const auto panel = std::find_if(families.begin(), families.end(),
                                  [](const group_evidence& f) { return f.name == "reference panel"; });
  if (panel != families.end()) {
    const double parts = p_values.empty() ? 1.0 : 2.0;
    p = sidak(std::min(p, panel->p), parts);
    floor = sidak(std::min(floor, panel->min_p), parts);
  }
  verdict.p_global = std::max(p, std::numeric_limits<double>::denorm_min());
  verdict.p_floor = std::max(floor, std::numeric_limits<double>::denorm_min());
}

void label(verdict_report& verdict, const comparison_report& report) {
  if (report.tensors.empty() && verdict.units == 0) {
    verdict.label = "inconclusive";
    verdict.evidence.push_back("The models have no tensor pair with a common key and shape; nothing was compared.");
  } else if (all_equal(report)) {
    verdict.label = "identical";
    verdict.evidence.push_back(fmt::format(
        "All {} tensor pairs ({} elements) are equal bit for bit after conversion to a common dtype, and neither "
        "model has a tensor the other lacks.",
        report.tensors.size(), report.compared_elements));
  } else if (verdict.units == 0) {
    verdict.label = "inconclusive";
    verdict.evidence.push_back("No tensor pair could be tested: none has an axis whose labels are arbitrary with a "
                               "usable null (see each pair's reason).");
  } else if (verdict.p_global <= verdict.alpha) {
    verdict.label = "derived";
  } else if (const double share = tested_share(report); share < minimum_coverage) {
    verdict.label = "inconclusive";
    verdict.evidence.push_back(fmt::format(
        "Only {:.1f} % of the smaller model's parameters could be tested; too little to say there is no evidence.",
        100 * share));
  } else {
    verdict.label = "no evidence of derivation";
  }
}

}  // namespace

std::string role_family(std::string_view role) {
  if (starts_with(role, "mtp.")) return "mtp";
  if (contains(role, "router") || contains(role, "shared_expert_gate") || contains(role, "e_score_correction"))
    return "router";
  if (starts_with(role, "mlp.experts.")) return "experts";
  if (contains(role, "norm") || contains(role, "ln_")) return "norms";
  if (contains(role, "embed") || contains(role, "lm_head") || contains(role, "wte") || contains(role, "wpe"))
    return "embeddings";
  if (contains(role, "attn")) return "attention";
  if (contains(role, "mlp")) return "mlp";
  return "other";
}

evidence_summary assess_evidence(const comparison_report& report, double alpha) {
  evidence_summary summary;
  auto& verdict = summary.verdict;
  verdict.alpha = alpha;
  summary.layers = unit_layers(report);
  summary.families = unit_families(report);
  add_panel_family(summary.families, report);
  std::vector<double> family_p;
  for (const auto& f : summary.families) family_p.push_back(f.p);
  const std::vector<double> adjusted = holm_sidak(family_p);
  for (std::size_t i = 0; i < summary.families.size(); ++i) {
    summary.families[i].adjusted_p = adjusted[i];
    summary.families[i].significant = adjusted[i] <= alpha;
  }
  global_p(verdict, report, summary.families);
  std::vector<const group_evidence*> ordered;
  for (const auto& f : summary.families) ordered.push_back(&f);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const group_evidence* x, const group_evidence* y) { return x->adjusted_p < y->adjusted_p; });
  std::vector<group_evidence> descriptive;
  add_descriptive_families(descriptive, report);

  label(verdict, report);
  if (verdict.units > 0 && verdict.label != "inconclusive")
    verdict.evidence.push_back(fmt::format(
        "Global p = {} (Fisher's method over {} independent unit tests{}; the smallest these tests can give is {}) "
        "at α = {}.",
        p_text(verdict.p_global), verdict.units,
        ordered.size() > 0 && std::any_of(ordered.begin(), ordered.end(),
                                          [](const group_evidence* f) { return f->name == "reference panel"; })
            ? ", Šidák-joined with the reference panel"
            : "",
        p_text(verdict.p_floor), alpha));
  for (const group_evidence* f : ordered) verdict.evidence.push_back(family_line(*f, report));
  for (const auto& f : descriptive) verdict.evidence.push_back(family_line(f, report));
  if (verdict.label == "derived")
    for (const group_evidence* f : ordered)
      if (f->significant) verdict.carried_by.push_back(f->name);
  summary.families.insert(summary.families.end(), descriptive.begin(), descriptive.end());
  add_notes(verdict, report);
  add_invariances(verdict, report);
  return summary;
}

}  // namespace lineage
