// From test units to the verdict (reduce/evidence): the family of each canonical role, Fisher's
// method over independent units, families by kind and layers, descriptive families that never carry
// the verdict, and the four labels with the lines and notes that carry them, on reports built by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "reduce/evidence.hpp"
#include "reduce/probability.hpp"
#include "reduce/report_model.hpp"

namespace lineage {
namespace {

constexpr double alpha = 0.01;

TEST(Evidence, RoleFamiliesOfCanonicalRoles) {
  struct row {
    const char* role;
    const char* family;
  };
  const row table[] = {
      {"input_layernorm.weight", "norms"},
      {"post_attention_layernorm.bias", "norms"},
      {"norm.weight", "norms"},
      {"self_attn.q_norm.weight", "norms"},
      {"self_attn.kv_a_layernorm.weight", "norms"},
      {"model.layers.*.input_layernorm.weight", "norms"},  // generic fallback
      {"h.*.ln_1.weight", "norms"},
      {"self_attn.q_proj.weight", "attention"},
      {"self_attn.k_proj.bias", "attention"},
      {"self_attn.kv_b_proj.weight", "attention"},
      {"attn.c_attn.weight", "attention"},
      {"mlp.gate_proj.weight", "mlp"},
      {"mlp.down_proj.weight", "mlp"},
      {"mlp.shared_experts.up_proj.weight", "mlp"},
      {"mlp.c_fc.weight", "mlp"},
      {"mlp.experts.gate_proj.weight", "experts"},
      {"mlp.experts.down_proj.weight", "experts"},
      {"mlp.router.weight", "router"},
      {"mlp.router.e_score_correction_bias", "router"},
      {"mlp.shared_expert_gate.weight", "router"},
      {"embed_tokens.weight", "embeddings"},
      {"embed_positions.weight", "embeddings"},
      {"lm_head.weight", "embeddings"},
      {"model.embed_tokens.weight", "embeddings"},
      {"transformer.wte.weight", "embeddings"},
      {"mtp.enorm.weight", "mtp"},
      {"mtp.eh_proj.weight", "mtp"},
      {"mtp.mlp.experts.up_proj.weight", "mtp"},
      {"mtp.shared_head.head.weight", "mtp"},
      {"model.layers.*.weight_scale_inv", "other"},
      {"rotary_emb.inv_freq", "other"},
  };
  for (const row& r : table) EXPECT_EQ(role_family(r.role), r.family) << r.role;
}

// --- reports built by hand --------------------------------------------------------------------------

// A test unit of a hand-made report: its kind, layer and p (NaN: not available).
struct unit_spec {
  const char* kind;
  int layer;
  double p;
  std::uint32_t permutations = 10000;
};

unit_figures make_unit(const unit_spec& s) {
  unit_figures u;
  u.kind = s.kind;
  u.layer = s.layer;
  u.label = s.layer < 0 ? std::string(s.kind) : "layer " + std::to_string(s.layer) + " " + s.kind;
  u.group = "any permutation of 64 units";
  u.permutations = s.permutations;
  u.p_floor = 1 / (1.0 + s.permutations);
  u.members = u.used = 2;
  if (std::isnan(s.p)) {
    u.used = 0;
    u.reason = "no member with a usable null";
    return u;
  }
  u.available = true;
  u.p = std::max(s.p, u.p_floor);
  u.z = -std::log(u.p);
  return u;
}

// One tensor per unit (tested in it, with the unit's p), of `elements` each.
tensor_result tensor_of(const unit_figures& u, std::uint64_t elements, double cosine = 0.01) {
  tensor_result t;
  t.pair.key = {u.layer, u.kind, -1};
  t.pair.a.name = t.pair.b.name = u.label + ".weight";
  t.pair.a.elements = t.pair.b.elements = elements;
  t.moments.elements = t.moments.count = elements;
  t.figures.cosine = cosine;
  t.figures.pearson = 0;
  t.null.available = u.available;
  t.null.test_unit = u.available ? u.label : "";
  t.null.reason = u.available ? "" : "non-finite values";
  t.null.permutations = u.permutations;
  t.null.p_value = u.available ? u.p : 1;
  t.null.cosine.mean = cosine > 0.9 ? cosine - 0.001 : 0.0;
  return t;
}

// A report over `units` whose models have `coverage` of their parameters in tested tensors.
comparison_report make_report(const std::vector<unit_spec>& units, double coverage = 1.0) {
  comparison_report report;
  for (const auto& s : units) {
    report.units.push_back(make_unit(s));
    report.tensors.push_back(tensor_of(report.units.back(), 1000));
    report.compared_elements += 1000;
  }
  report.model_a.parameter_count =
      static_cast<std::uint64_t>(std::llround(static_cast<double>(report.compared_elements) / coverage));
  report.model_b.parameter_count = report.model_a.parameter_count + 17;
  report.evidence = assess_evidence(report, alpha);
  return report;
}

// The hidden unit and, per layer, heads, values and neurons, with p-values spread evenly over (0, 1).
std::vector<unit_spec> uniform_units(int layers) {
  std::vector<unit_spec> units{{"hidden", -1, 0.5}};
  const char* kinds[] = {"heads", "values", "neurons"};
  const int count = layers * 3;
  for (int l = 0; l < layers; ++l)
    for (int k = 0; k < 3; ++k) units.push_back({kinds[k], l, ((l * 3 + k) * 7 % count + 0.5) / count});
  return units;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& part) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& line) { return line.find(part) != std::string::npos; });
}

const group_evidence& family(const evidence_summary& evidence, const std::string& name) {
  const auto found = std::find_if(evidence.families.begin(), evidence.families.end(),
                                  [&](const group_evidence& f) { return f.name == name; });
  if (found == evidence.families.end()) throw std::runtime_error("no family " + name);
  return *found;
}

TEST(Evidence, BitwiseEqualPairsWithNothingUnpairedAreIdentical) {
  std::vector<unit_spec> units = uniform_units(3);
  for (auto& u : units) u.p = 1e-4;
  comparison_report report = make_report(units);
  for (auto& t : report.tensors) t.moments.bitwise_equal = t.moments.elements;
  EXPECT_EQ(assess_evidence(report, alpha).verdict.label, "identical");
  EXPECT_NE(assess_evidence(report, alpha).verdict.evidence[0].find("equal bit for bit"), std::string::npos);
  // A tensor the other model lacks: no longer identical (but derived).
  report.unpaired.push_back({'b', "extra.weight", {-1, "extra.weight", -1}, dtype::bf16, {4}, "no pair"});
  EXPECT_EQ(assess_evidence(report, alpha).verdict.label, "derived");
}

TEST(Evidence, UnitsCombineByFishersMethodAndFamiliesAreTheirKinds) {
  std::vector<unit_spec> units = uniform_units(5);
  for (auto& u : units)
    if (std::string(u.kind) == "neurons") u.p = 1e-4;
  const comparison_report report = make_report(units);
  const auto& evidence = report.evidence;
  EXPECT_EQ(evidence.verdict.label, "derived");
  EXPECT_EQ(evidence.verdict.units, units.size());
  std::vector<double> all_p, floors;
  for (const auto& u : report.units) all_p.push_back(u.p), floors.push_back(u.p_floor);
  EXPECT_EQ(evidence.verdict.p_global, fisher_combination(all_p).p);
  EXPECT_EQ(evidence.verdict.p_floor, fisher_combination(floors).p);
  EXPECT_LT(evidence.verdict.p_floor, evidence.verdict.p_global);
  // Families: one per kind, Fisher within, Holm–Šidák across for where the evidence sits.
  ASSERT_EQ(evidence.families.size(), 4U);
  std::vector<double> family_p;
  for (const auto& f : evidence.families) {
    EXPECT_FALSE(f.descriptive);
    EXPECT_EQ(f.method, "Fisher");
    family_p.push_back(f.p);
  }
  const std::vector<double> adjusted = holm_sidak(family_p);
  for (std::size_t i = 0; i < evidence.families.size(); ++i) {
    EXPECT_EQ(evidence.families[i].adjusted_p, adjusted[i]);
    EXPECT_EQ(evidence.families[i].significant, evidence.families[i].name == "neurons") << evidence.families[i].name;
  }
  const auto& neurons = family(evidence, "neurons");
  EXPECT_EQ(neurons.tensors, 5U);
  EXPECT_EQ(neurons.p, fisher_combination(std::vector<double>(5, 1e-4)).p);
  EXPECT_EQ(evidence.verdict.carried_by, std::vector<std::string>{"neurons"});
  // The evidence lines: the global p with its floor, then the families strongest first.
  const auto& lines = evidence.verdict.evidence;
  EXPECT_NE(lines[0].find("Fisher's method over 16 independent unit tests"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("smallest these tests can give"), std::string::npos);
  EXPECT_EQ(lines[1].rfind("neurons:", 0), 0U) << lines[1];
  // Layers: Fisher over each layer's three units, the hidden unit as "global".
  ASSERT_EQ(evidence.layers.size(), 6U);
  EXPECT_EQ(evidence.layers[0].name, "global");
  for (std::size_t l = 1; l < 6; ++l) {
    EXPECT_EQ(evidence.layers[l].name, "layer " + std::to_string(l - 1));
    EXPECT_EQ(evidence.layers[l].tensors, 3U);
  }
}

TEST(Evidence, UniformUnitPValuesWithFullCoverageAreNoEvidence) {
  const comparison_report report = make_report(uniform_units(9));
  const auto& verdict = report.evidence.verdict;
  EXPECT_EQ(verdict.label, "no evidence of derivation");
  EXPECT_GT(verdict.p_global, alpha);
  EXPECT_NE(verdict.evidence.at(0).find("Global p"), std::string::npos);
  EXPECT_TRUE(any_contains(verdict.notes, "not proof of independence"));
  EXPECT_FALSE(any_contains(verdict.notes, "raw cosine"));
  EXPECT_FALSE(verdict.invariances_tested.empty());
  EXPECT_TRUE(any_contains(verdict.invariances_not_tested, "MLP neurons"));
  for (const auto& f : report.evidence.families) EXPECT_FALSE(f.significant) << f.name;
}

TEST(Evidence, NothingTestableOrTooLittleIsInconclusive) {
  const comparison_report nothing = make_report({});
  EXPECT_EQ(nothing.evidence.verdict.label, "inconclusive");
  EXPECT_EQ(nothing.evidence.verdict.p_global, 1);
  EXPECT_TRUE(nothing.evidence.families.empty());
  EXPECT_TRUE(any_contains(nothing.evidence.verdict.evidence, "no tensor pair"));
  // Uniform p-values over 10 % of the smaller model.
  const comparison_report partial = make_report(uniform_units(9), 0.10);
  EXPECT_EQ(partial.evidence.verdict.label, "inconclusive");
  EXPECT_TRUE(any_contains(partial.evidence.verdict.evidence, "10.0 %"));
  EXPECT_EQ(make_report(uniform_units(9), minimum_coverage + 0.01).evidence.verdict.label, "no evidence of derivation");
  // Strong evidence over a small part is still evidence.
  std::vector<unit_spec> strong = uniform_units(9);
  for (auto& u : strong) u.p = 1e-4;
  EXPECT_EQ(make_report(strong, 0.10).evidence.verdict.label, "derived");
  // Pairs, but no usable unit.
  std::vector<unit_spec> unusable = uniform_units(3);
  for (auto& u : unusable) u.p = NAN;
  const comparison_report none = make_report(unusable);
  EXPECT_EQ(none.evidence.verdict.label, "inconclusive");
  EXPECT_TRUE(none.evidence.families.empty());
  EXPECT_TRUE(any_contains(none.evidence.verdict.evidence, "No tensor pair could be tested"));
}

TEST(Evidence, HighRawCosineWithoutSignificanceGetsTheCautionNote) {
  comparison_report report = make_report(uniform_units(9));
  for (auto& t : report.tensors)
    if (t.pair.key.role == "hidden" || t.pair.key.role == "heads") t.figures.cosine = 0.99, t.null.cosine.mean = 0.99;
  const auto verdict = assess_evidence(report, alpha).verdict;
  EXPECT_EQ(verdict.label, "no evidence of derivation");
  ASSERT_TRUE(any_contains(verdict.notes, "raw cosine above 0.9"));
  EXPECT_TRUE(any_contains(verdict.notes, "not evidence of derivation"));
}

TEST(Evidence, UntestedPairsAreNamedWithTheirReason) {
  comparison_report report = make_report(uniform_units(2));
  tensor_result classes;
  classes.pair.a.name = "score.bias";
  classes.null.reason = "no axis whose labels are arbitrary (axes [classes]: output classes)";
  report.tensors.push_back(classes);
  report.tensors.push_back(classes);
  const auto verdict = assess_evidence(report, alpha).verdict;
  EXPECT_TRUE(any_contains(verdict.notes, "2 tensor pairs are not tested: no axis whose labels are arbitrary"));
}

TEST(Evidence, DescriptiveFamiliesNeverCarryTheVerdict) {
  comparison_report report = make_report(uniform_units(4));
  cross_layer_figures diagonal;
  diagonal.available = true;
  diagonal.common = 4;
  diagonal.role = "mlp.up_proj.weight";
  diagonal.p_value = 1e-12;
  report.cross_layers.push_back(diagonal);
  const auto evidence = assess_evidence(report, alpha);
  EXPECT_EQ(evidence.verdict.label, "no evidence of derivation");
  const auto& layer_order = family(evidence, "layer order");
  EXPECT_TRUE(layer_order.descriptive);
  EXPECT_TRUE(any_contains(evidence.verdict.evidence, "descriptive, not part of the verdict"));
  EXPECT_TRUE(evidence.verdict.carried_by.empty());
}

}  // namespace
}  // namespace lineage
