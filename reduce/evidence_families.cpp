// The groups the evidence is shown in: families of units by kind, layers, the reference panel,
// and the descriptive families whose nulls are not symmetries of the architecture.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "reduce/evidence.hpp"
#include "reduce/report_model.hpp"

namespace lineage {
namespace {

double median(std::vector<double> values) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : 0.5 * (values[middle - 1] + values[middle]);
}

double mean(const std::vector<double>& values) {
  if (values.empty()) return NAN;
  double total = 0;
  for (const double v : values) total += v;
  return total / static_cast<double>(values.size());
}

std::string family_name(const std::string& kind) {
  static const std::map<std::string, std::string> names = {
      {"hidden", "hidden dimensions"}, {"channels", "channels"},        {"latent", "low-rank latents"},
      {"experts", "experts"},          {"heads", "attention heads"},    {"values", "attention values"},
      {"neurons", "neurons"},          {"expert matching", "expert matching"}};
  const auto found = names.find(kind);
  return found == names.end() ? kind : found->second;
}

// One test of a family: its p, what it is, its effect size and z.
struct family_test {
  double p = 1;
  std::string what;
  double effect = 0;
  double z = 0;
};

group_evidence combine(std::string name, const std::vector<family_test>& tests, bool fisher) {
  group_evidence g;
  g.name = std::move(name);
  std::vector<double> p_values, effects;
  for (const auto& t : tests) {
    p_values.push_back(t.p);
    if (std::isfinite(t.effect)) effects.push_back(t.effect);
    if (g.strongest.empty() || t.p < g.min_p) {
      g.min_p = t.p;
      g.strongest = t.what;
      g.strongest_pearson = t.effect;
      g.strongest_z = t.z;
    }
  }
  g.tensors = tests.size();
  g.fisher = fisher_combination(p_values);
  g.harmonic = harmonic_mean_combination(p_values);
  g.method = fisher ? "Fisher" : "harmonic mean";
  g.p = fisher ? g.fisher.p : g.harmonic.p;
  g.median_pearson = median(effects);
  return g;
}

// The tensors of the units of `kind`, for the family's Pearson and cosine figures.
void add_tensor_figures(group_evidence& g, const comparison_report& report, const std::vector<std::string>& labels) {
  std::vector<double> pearsons, cosines, null_cosines;
  for (const auto& t : report.tensors) {
    if (!t.null.available || std::find(labels.begin(), labels.end(), t.null.test_unit) == labels.end()) continue;
    if (std::isfinite(t.figures.pearson)) pearsons.push_back(t.figures.pearson);
    if (std::isfinite(t.figures.cosine)) cosines.push_back(t.figures.cosine);
    if (std::isfinite(t.null.cosine.mean)) null_cosines.push_back(t.null.cosine.mean);
  }
  if (!pearsons.empty()) g.median_pearson = median(pearsons);
  g.mean_cosine = mean(cosines);
  g.mean_null_cosine = mean(null_cosines);
}

family_test unit_test(const unit_figures& u) { return {u.p, u.label, NAN, u.z}; }

}  // namespace

std::vector<group_evidence> unit_families(const comparison_report& report) {
  std::map<std::string, std::vector<const unit_figures*>> by_kind;
  std::vector<std::string> order;
  for (const auto& u : report.units) {
    if (!u.available) continue;
    if (!by_kind.contains(u.kind)) order.push_back(u.kind);
    by_kind[u.kind].push_back(&u);
  }
  std::vector<group_evidence> families;
  for (const auto& kind : order) {
    std::vector<family_test> tests;
    std::vector<std::string> labels;
    for (const unit_figures* u : by_kind[kind]) {
      tests.push_back(unit_test(*u));
      labels.push_back(u->label);
    }
    group_evidence g = combine(family_name(kind), tests, true);
    if (kind == "expert matching") {
      std::vector<double> scores;
      for (const auto& m : report.expert_matching)
        if (m.available) scores.push_back(m.score);
      g.median_pearson = median(scores);
    } else {
      add_tensor_figures(g, report, labels);
    }
    families.push_back(std::move(g));
  }
  return families;
}

std::vector<group_evidence> unit_layers(const comparison_report& report) {
  std::map<std::pair<bool, int>, std::vector<const unit_figures*>> by_layer;
  for (const auto& u : report.units)
    if (u.available) by_layer[{u.label.find(" mtp.") != std::string::npos, u.layer}].push_back(&u);
  std::vector<group_evidence> layers;
  for (const auto& [where, units] : by_layer) {
    const auto& [mtp, layer] = where;
    std::vector<family_test> tests;
    std::vector<std::string> labels;
    for (const unit_figures* u : units) {
      tests.push_back(unit_test(*u));
      labels.push_back(u->label);
    }
    group_evidence g = combine(layer < 0 ? std::string("global") : fmt::format("{} {}", mtp ? "MTP block" : "layer", layer),
                               tests, true);
    g.layer = layer;
    add_tensor_figures(g, report, labels);
    layers.push_back(std::move(g));
  }
  return layers;
}

void add_panel_family(std::vector<group_evidence>& families, const comparison_report& report) {
  std::vector<family_test> tests;
  for (const auto& r : report.panel.roles) tests.push_back({r.p_value, r.role, r.pearson, r.z});
  if (tests.empty()) return;
  group_evidence g = combine("reference panel", tests, false);
  g.unit = "roles";
  families.push_back(std::move(g));
}

void add_descriptive_families(std::vector<group_evidence>& families, const comparison_report& report) {
  const auto add = [&](const char* name, const std::vector<family_test>& tests) {
    if (tests.empty()) return;
    group_evidence g = combine(name, tests, false);
    g.unit = "tests";
    g.descriptive = true;
    g.adjusted_p = NAN;
    g.mean_cosine = g.mean_null_cosine = NAN;  // no tensors of their own
    families.push_back(std::move(g));
  };
  std::vector<family_test> tests;
  for (const auto& f : report.cross_layers)
    if (f.available && f.common >= 2) tests.push_back({f.p_value, "cross-layer diagonal of " + f.role, f.diagonal_mean, f.z});
  if (report.depth.available) tests.push_back({report.depth.p_value, "depth alignment", report.depth.score, report.depth.z});
  add("layer order", tests);
  tests.clear();
  for (const auto& m : report.neuron_matching)
    if (m.available) tests.push_back({m.p_value, "neuron matching of " + m.where(), m.spearman, m.z});
  add("neuron matching", tests);
  tests.clear();
  for (const auto& m : report.head_matching)
    if (m.available) tests.push_back({m.p_value, "head matching of " + m.where(), m.spearman, m.z});
  add("head matching", tests);
  tests.clear();
  for (const auto& m : report.hidden_matching)
    if (m.available) tests.push_back({m.p_value, "hidden matching on " + m.role, m.spearman, m.z});
  add("hidden matching", tests);
  tests.clear();
  const auto& print = report.fingerprints.test;
  if (print.available)
    tests.push_back({print.p_value, fmt::format("fingerprints of {} roles over {} layers", print.roles.size(),
                                                print.layers.size()),
                     print.statistic, print.z});
  add("fingerprints", tests);
}

}  // namespace lineage
