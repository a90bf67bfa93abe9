// From per-tensor p-values to the verdict (reduce/evidence): the family of each canonical role,
// grouping by layer and family, Holm–Šidák across families, and the four labels with the lines and
// notes that carry them, on comparison reports built by hand.
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

struct tensor_spec {
  int layer;
  std::string role;
  double p;                   // the tensor's p-value (NaN: no usable null)
  double cosine = 0.01;
  double pearson = 0.0;
  bool bitwise_equal = false;
  std::uint64_t elements = 1000;
};

tensor_result make_tensor(const tensor_spec& s) {
  tensor_result t;
  t.pair.key = {s.layer, s.role, -1};
  t.pair.a.name = t.pair.b.name =
      (s.layer < 0 ? std::string("model.") : "model.layers." + std::to_string(s.layer) + ".") + s.role;
  t.pair.a.elements = t.pair.b.elements = s.elements;
  t.moments.elements = t.moments.count = s.elements;
  t.moments.bitwise_equal = s.bitwise_equal ? s.elements : 0;
  t.figures.cosine = s.cosine;
  t.figures.pearson = s.pearson;
  if (std::isnan(s.p)) {
    t.null.reason = "non-finite values";
    return t;
  }
  t.null.available = true;
  t.null.permutations = 200;
  t.null.p_value = t.null.p_permutation = s.p;
  t.null.z = -std::log(s.p);
  t.null.cosine.mean = s.cosine > 0.9 ? s.cosine - 0.001 : 0.0;
  return t;
}

// A report over `specs` whose models have `coverage` of their parameters compared.
comparison_report make_report(const std::vector<tensor_spec>& specs, double coverage = 1.0) {
  comparison_report report;
  for (const auto& s : specs) {
    report.tensors.push_back(make_tensor(s));
    report.compared_elements += s.elements;
  }
  report.model_a.parameter_count =
      static_cast<std::uint64_t>(std::llround(static_cast<double>(report.compared_elements) / coverage));
  report.model_b.parameter_count = report.model_a.parameter_count + 17;
  report.evidence = assess_evidence(report, alpha);
  return report;
}

const char* const roles[] = {"input_layernorm.weight", "self_attn.q_proj.weight", "mlp.up_proj.weight",
                             "mlp.router.weight"};

// Every role in `layers` layers, with p-values spread evenly over (0, 1) in a scrambled order.
std::vector<tensor_spec> uniform_specs(int layers, double cosine = 0.01) {
  std::vector<tensor_spec> specs;
  const int count = layers * 4;
  for (int l = 0; l < layers; ++l)
    for (int r = 0; r < 4; ++r) {
      const int index = (l * 4 + r) * 7 % count;  // a permutation while 7 does not divide layers
      specs.push_back({l, roles[r], (index + 0.5) / count, cosine, 0.0});
    }
  return specs;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& part) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& line) { return line.find(part) != std::string::npos; });
}

TEST(Evidence, BitwiseEqualPairsWithNothingUnpairedAreIdentical) {
  std::vector<tensor_spec> specs;
  for (int l = 0; l < 3; ++l)
    for (const char* role : roles) specs.push_back({l, role, 1e-6, 1.0, 1.0, true});
  comparison_report report = make_report(specs);
  EXPECT_EQ(report.evidence.verdict.label, "identical");
  ASSERT_FALSE(report.evidence.verdict.evidence.empty());
  EXPECT_NE(report.evidence.verdict.evidence[0].find("equal bit for bit"), std::string::npos);
  // A tensor the other model lacks: no longer identical (but derived).
  report.unpaired.push_back({'b', "extra.weight", {-1, "extra.weight", -1}, dtype::bf16, {4}, "no pair"});
  EXPECT_EQ(assess_evidence(report, alpha).verdict.label, "derived");
  // One pair that differs in a single element: not identical either.
  specs.back().bitwise_equal = false;
  EXPECT_EQ(make_report(specs).evidence.verdict.label, "derived");
}

TEST(Evidence, SmallPValuesAreDerivedWithHolmSidakAcrossFamilies) {
  std::vector<tensor_spec> specs = uniform_specs(5);
  for (auto& s : specs)
    if (s.role == "mlp.up_proj.weight") s.p = 1e-9, s.pearson = 0.8;
  const comparison_report report = make_report(specs);
  const auto& evidence = report.evidence;
  EXPECT_EQ(evidence.verdict.label, "derived");
  EXPECT_LE(evidence.verdict.p_global, alpha);
  EXPECT_EQ(evidence.verdict.alpha, alpha);

  // Families: norms, attention, mlp, router; each with its own harmonic-mean p, adjusted together.
  ASSERT_EQ(evidence.families.size(), 4U);
  std::vector<double> family_p;
  for (const auto& f : evidence.families) {
    EXPECT_EQ(f.tensors, 5U) << f.name;
    EXPECT_EQ(f.layer, -1);
    family_p.push_back(f.harmonic.p);
  }
  const std::vector<double> adjusted = holm_sidak(family_p);
  double smallest = 1;
  for (std::size_t i = 0; i < evidence.families.size(); ++i) {
    const auto& f = evidence.families[i];
    EXPECT_EQ(f.adjusted_p, adjusted[i]) << f.name;
    EXPECT_EQ(f.significant, adjusted[i] <= alpha) << f.name;
    EXPECT_EQ(f.significant, f.name == "mlp") << f.name;
    smallest = std::min(smallest, adjusted[i]);
  }
  EXPECT_EQ(evidence.verdict.p_global, smallest);
  const auto mlp = std::find_if(evidence.families.begin(), evidence.families.end(),
                                [](const group_evidence& f) { return f.name == "mlp"; });
  ASSERT_NE(mlp, evidence.families.end());
  EXPECT_EQ(mlp->min_p, 1e-9);
  EXPECT_EQ(mlp->median_pearson, 0.8);
  EXPECT_NE(mlp->strongest.find("mlp.up_proj.weight"), std::string::npos);
  std::vector<double> mlp_p(5, 1e-9);
  EXPECT_EQ(mlp->fisher.p, fisher_combination(mlp_p).p);
  EXPECT_EQ(mlp->harmonic.p, harmonic_mean_combination(mlp_p).p);

  // The evidence lines: the global p, then the families strongest first.
  const auto& lines = evidence.verdict.evidence;
  ASSERT_EQ(lines.size(), 1 + evidence.families.size());
  EXPECT_NE(lines[0].find("Global p"), std::string::npos);
  EXPECT_EQ(lines[1].rfind("mlp:", 0), 0U) << lines[1];
  EXPECT_NE(lines[1].find("significant"), std::string::npos);
  EXPECT_FALSE(any_contains(evidence.verdict.notes, "not proof of independence"));

  // Layers: one group per layer, each with one tensor of each role.
  ASSERT_EQ(evidence.layers.size(), 5U);
  for (std::size_t l = 0; l < 5; ++l) {
    EXPECT_EQ(evidence.layers[l].layer, static_cast<int>(l));
    EXPECT_EQ(evidence.layers[l].name, "layer " + std::to_string(l));
    EXPECT_EQ(evidence.layers[l].tensors, 4U);
  }
}

TEST(Evidence, UniformPValuesWithFullCoverageAreNoEvidence) {
  const comparison_report report = make_report(uniform_specs(9));
  const auto& verdict = report.evidence.verdict;
  EXPECT_EQ(verdict.label, "no evidence of derivation");
  EXPECT_GT(verdict.p_global, alpha);
  EXPECT_NE(verdict.evidence.at(0).find("Global p"), std::string::npos);
  EXPECT_TRUE(any_contains(verdict.notes, "not proof of independence"));
  EXPECT_FALSE(any_contains(verdict.notes, "raw cosine"));
  EXPECT_FALSE(verdict.invariances_tested.empty());
  EXPECT_FALSE(verdict.invariances_not_tested.empty());
  EXPECT_TRUE(any_contains(verdict.invariances_not_tested, "permutation of MLP neurons"));
  for (const auto& f : report.evidence.families) EXPECT_FALSE(f.significant) << f.name;
}

TEST(Evidence, NothingComparedOrTooLittleIsInconclusive) {
  const comparison_report nothing = make_report({});
  EXPECT_EQ(nothing.evidence.verdict.label, "inconclusive");
  EXPECT_EQ(nothing.evidence.verdict.p_global, 1);
  EXPECT_TRUE(nothing.evidence.families.empty());
  EXPECT_TRUE(any_contains(nothing.evidence.verdict.evidence, "no tensor pair"));

  // Uniform p-values over 10 % of the smaller model.
  const comparison_report partial = make_report(uniform_specs(9), 0.10);
  EXPECT_EQ(partial.evidence.verdict.label, "inconclusive");
  EXPECT_TRUE(any_contains(partial.evidence.verdict.evidence, "10.0 %"));
  EXPECT_FALSE(any_contains(partial.evidence.verdict.notes, "not proof of independence"));
  // Just above the threshold: no evidence.
  EXPECT_EQ(make_report(uniform_specs(9), minimum_coverage + 0.01).evidence.verdict.label,
            "no evidence of derivation");
  // Strong evidence over a small part is still evidence.
  std::vector<tensor_spec> strong = uniform_specs(9);
  for (auto& s : strong) s.p = 1e-12;
  EXPECT_EQ(make_report(strong, 0.10).evidence.verdict.label, "derived");

  // Pairs, but no usable null.
  std::vector<tensor_spec> unusable = uniform_specs(3);
  for (auto& s : unusable) s.p = NAN;
  const comparison_report none = make_report(unusable);
  EXPECT_EQ(none.evidence.verdict.label, "inconclusive");
  EXPECT_TRUE(none.evidence.families.empty());
  EXPECT_TRUE(any_contains(none.evidence.verdict.evidence, "usable permutation null"));
  for (const auto& l : none.evidence.layers) EXPECT_EQ(l.tensors, 0U);
}

TEST(Evidence, HighRawCosineWithoutSignificanceGetsTheCautionNote) {
  // Norm weights of unrelated models: raw cosine 0.99, p-values uniform.
  std::vector<tensor_spec> specs = uniform_specs(9);
  for (auto& s : specs)
    if (s.role == "input_layernorm.weight") s.cosine = 0.99;
  const comparison_report report = make_report(specs);
  EXPECT_EQ(report.evidence.verdict.label, "no evidence of derivation");
  const auto& notes = report.evidence.verdict.notes;
  ASSERT_TRUE(any_contains(notes, "raw cosine above 0.9"));
  const std::string note = *std::find_if(notes.begin(), notes.end(), [](const std::string& n) {
    return n.find("raw cosine above 0.9") != std::string::npos;
  });
  EXPECT_NE(note.find("9 tensor pairs (mostly norms)"), std::string::npos) << note;
  EXPECT_NE(note.find("not evidence of derivation"), std::string::npos) << note;

  // Significant high-cosine pairs do not count towards the caution.
  for (auto& s : specs)
    if (s.role == "input_layernorm.weight") s.p = 1e-9;
  EXPECT_FALSE(any_contains(make_report(specs).evidence.verdict.notes, "raw cosine above 0.9"));
}

TEST(Evidence, ClosedFormDisagreementIsNoted) {
  comparison_report report = make_report(uniform_specs(3));
  EXPECT_FALSE(any_contains(report.evidence.verdict.notes, "closed-form null"));
  report.tensors[1].null.closed_form_disagrees = true;
  report.tensors[4].null.closed_form_disagrees = true;
  const auto verdict = assess_evidence(report, alpha).verdict;
  EXPECT_TRUE(any_contains(verdict.notes, "In 2 of 12 tensor pairs the closed-form null"));
}

TEST(Evidence, TensorsOutsideLayersFormTheGlobalGroup) {
  std::vector<tensor_spec> specs = uniform_specs(3);
  specs.push_back({-1, "embed_tokens.weight", 0.3});
  specs.push_back({-1, "norm.weight", 0.6});
  const comparison_report report = make_report(specs);
  ASSERT_EQ(report.evidence.layers.size(), 4U);
  EXPECT_EQ(report.evidence.layers[0].name, "global");
  EXPECT_EQ(report.evidence.layers[0].layer, -1);
  EXPECT_EQ(report.evidence.layers[0].tensors, 2U);
  std::vector<std::string> families;
  for (const auto& f : report.evidence.families) families.push_back(f.name);
  EXPECT_EQ(families, (std::vector<std::string>{"attention", "embeddings", "mlp", "norms", "router"}));
}

}  // namespace
}  // namespace lineage
