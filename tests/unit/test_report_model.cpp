// The report model (reduce/report_model): per-tensor figures and permutation nulls in plan order,
// per-role tables that merge the experts of a layer, unpaired counts, the status line and the
// evidence; and that report.json carries them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "plan/plan.hpp"
#include "reduce/block_results.hpp"
#include "reduce/report_model.hpp"
#include "report/report_writers.hpp"
#include "shard/kernel.hpp"
#include "shard/permutation_null.hpp"
#include "report_test_support.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using test::tensor_spec;

const architecture_registry& registry() { return test::embedded_registry(); }

using test::compute_pairs;
using test::computed_pairs;

std::vector<tensor_spec> mixtral_specs() { return test::mixtral_specs(2); }

// Nulls for a plan whose pairs were not computed: every pair says why it has none.
std::vector<null_samples> no_nulls(work_plan plan) {
  plan.nulls.clear();
  plan.null_rank.clear();
  return nulls_by_pair(plan, {});
}

constexpr double test_alpha = 0.01;

analysis_options at_alpha(double alpha) {
  analysis_options options;
  options.alpha = alpha;
  return options;
}

::testing::AssertionResult same_figures(const similarity& x, const similarity& y) {
  const double xs[] = {x.cosine, x.pearson, x.rel_l2, x.norm_ratio, x.bitwise_equal_fraction,
                       x.mean_a, x.std_a,   x.mean_b, x.std_b,      x.cv_a,
                       x.cv_b};
  const double ys[] = {y.cosine, y.pearson, y.rel_l2, y.norm_ratio, y.bitwise_equal_fraction,
                       y.mean_a, y.std_a,   y.mean_b, y.std_b,      y.cv_a,
                       y.cv_b};
  for (std::size_t i = 0; i < std::size(xs); ++i)
    if (!(xs[i] == ys[i] || (std::isnan(xs[i]) && std::isnan(ys[i]))))
      return ::testing::AssertionFailure() << "figure " << i << ": " << xs[i] << " vs " << ys[i];
  return ::testing::AssertionSuccess();
}

class ReportModel : public ::testing::Test {
 protected:
  ReportModel() {
    auto specs_b = mixtral_specs();
    specs_b.push_back({"model.layers.1.block_sparse_moe.experts.3.w1.weight", {16, 8}, dtype::bf16});
    specs_b.push_back({"lm_head.weight", {32, 8}, dtype::bf16});
    auto specs_a = mixtral_specs();
    specs_a.push_back({"model.layers.0.self_attn.q_proj.weight", {8, 8}, dtype::bf16});
    plan_ = make_plan(test::make_checkpoint("/a", "mixtral", specs_a),
                      test::make_checkpoint("/b", "mixtral", specs_b), registry(), {50, 2, {}});
    const computed_pairs computed = compute_pairs(plan_, 3);
    merged_ = computed.merged;
    nulls_ = computed.nulls;
    run_manifest manifest;
    manifest.tool_version = "9.9.9";
    manifest.kernel = "generic";
    manifest.ranks = 2;
    manifest.block_elements = 50;
    report_ = build_report(plan_, merged_, nulls_, {}, manifest, at_alpha(test_alpha));
  }

  work_plan plan_;
  std::vector<pair_moments> merged_;
  std::vector<null_samples> nulls_;
  comparison_report report_;
};

TEST_F(ReportModel, TensorsFollowPlanOrderWithTheirFigures) {
  ASSERT_EQ(report_.tensors.size(), plan_.pairs.size());
  std::uint64_t elements = 0;
  for (std::size_t p = 0; p < plan_.pairs.size(); ++p) {
    EXPECT_EQ(report_.tensors[p].pair.key, plan_.pairs[p].key);
    EXPECT_EQ(report_.tensors[p].pair.a.name, plan_.pairs[p].a.name);
    EXPECT_TRUE(test::same_bits(report_.tensors[p].moments, merged_[p]));
    EXPECT_TRUE(same_figures(report_.tensors[p].figures, derive_similarity(merged_[p])));
    elements += merged_[p].elements;
  }
  EXPECT_EQ(report_.compared_elements, elements);
  EXPECT_EQ(report_.tensors_with_nonfinite, 1U);
  EXPECT_EQ(report_.status(), "compared");
  EXPECT_EQ(report_.manifest.tool_version, "9.9.9");
  EXPECT_EQ(report_.model_a.architecture, "mixtral");
  EXPECT_EQ(report_.model_b.path, "/b");
}

TEST_F(ReportModel, RoleTablesMergeTheExpertsOfEachLayer) {
  // Roles sorted by name, each with its layers ascending (-1 first).
  std::vector<std::string> roles;
  for (const auto& table : report_.roles) roles.push_back(table.role);
  EXPECT_EQ(roles,
            (std::vector<std::string>{"embed_tokens.weight", "input_layernorm.weight",
                                      "mlp.experts.gate_proj.weight", "mlp.router.weight", "norm.weight"}));
  for (const auto& table : report_.roles)
    for (std::size_t i = 1; i < table.layers.size(); ++i)
      EXPECT_LT(table.layers[i - 1].layer, table.layers[i].layer);

  const auto& experts = *std::find_if(report_.roles.begin(), report_.roles.end(),
                                      [](const auto& t) { return t.role == "mlp.experts.gate_proj.weight"; });
  ASSERT_EQ(experts.layers.size(), 2U);
  for (const auto& row : experts.layers) {
    SCOPED_TRACE(testing::Message() << "layer " << row.layer);
    EXPECT_EQ(row.tensor_pairs, 3U);  // expert 3 of layer 1 exists in B only
    pair_moments expected;
    for (std::size_t p = 0; p < plan_.pairs.size(); ++p)
      if (plan_.pairs[p].key.role == experts.role && plan_.pairs[p].key.layer == row.layer)
        expected.merge(merged_[p]);
    EXPECT_TRUE(test::same_bits(row.moments, expected));
    EXPECT_EQ(row.moments.elements, 3U * 16 * 8);
    EXPECT_TRUE(same_figures(row.figures, derive_similarity(expected)));
  }
  const auto& embed = report_.roles.front();
  ASSERT_EQ(embed.layers.size(), 1U);
  EXPECT_EQ(embed.layers[0].layer, -1);
  EXPECT_EQ(embed.layers[0].tensor_pairs, 1U);
}

TEST_F(ReportModel, UnpairedTensorsAreCountedPerSide) {
  EXPECT_EQ(report_.unpaired_a, 1U);  // q_proj
  EXPECT_EQ(report_.unpaired_b, 2U);  // expert 3, lm_head
  ASSERT_EQ(report_.unpaired.size(), plan_.unpaired.size());
  for (std::size_t i = 0; i < report_.unpaired.size(); ++i) {
    EXPECT_EQ(report_.unpaired[i].name, plan_.unpaired[i].name);
    EXPECT_EQ(report_.unpaired[i].reason, plan_.unpaired[i].reason);
  }
}

TEST_F(ReportModel, JsonCarriesStatusSummaryAndNullsForUndefinedFigures) {
  const nlohmann::json doc = nlohmann::json::parse(report_json_text(report_));
  EXPECT_EQ(doc.at("status"), "compared");
  EXPECT_EQ(doc.at("summary").at("tensor_pairs"), report_.tensors.size());
  EXPECT_EQ(doc.at("summary").at("unpaired_a"), 1);
  EXPECT_EQ(doc.at("summary").at("unpaired_b"), 2);
  EXPECT_EQ(doc.at("summary").at("tensors_with_nonfinite"), 1);
  EXPECT_EQ(doc.at("roles").at("mlp.experts.gate_proj.weight").size(), 2U);
  EXPECT_EQ(doc.at("roles").at("mlp.experts.gate_proj.weight")[0].at("tensor_pairs"), 3);
  EXPECT_EQ(doc.at("tensors").size(), report_.tensors.size());
  EXPECT_EQ(doc.at("unpaired").size(), 3U);
  // Undefined figures are null in JSON (it has no NaN).
  pair_moments zero;
  zero.elements = zero.count = 4;
  std::vector<pair_moments> zeros(plan_.pairs.size(), zero);
  const nlohmann::json zdoc =
      nlohmann::json::parse(report_json_text(build_report(plan_, zeros, no_nulls(plan_), {}, {}, at_alpha(test_alpha))));
  EXPECT_TRUE(zdoc.at("tensors")[0].at("cosine").is_null());
  EXPECT_TRUE(zdoc.at("tensors")[0].at("pearson").is_null());
}

TEST_F(ReportModel, EachTensorCarriesItsPermutationNull) {
  ASSERT_EQ(report_.tensors.size(), nulls_.size());
  for (std::size_t p = 0; p < plan_.pairs.size(); ++p) {
    SCOPED_TRACE(testing::Message() << "pair " << p << " " << plan_.pairs[p].a.name);
    const auto& t = report_.tensors[p];
    const std::string unit = permuted_axis_text(plan_.pairs[p]);
    const null_figures expected = derive_null_figures(nulls_[p], merged_[p], t.figures.pearson, test_alpha, unit);
    EXPECT_EQ(t.null.available, expected.available);
    if (expected.available || plan_.pairs[p].untested.empty()) EXPECT_EQ(t.null.reason, expected.reason);
    EXPECT_EQ(t.null.unit, unit);
    EXPECT_EQ(t.null.permutations, expected.permutations);
    EXPECT_EQ(t.null.cosine_samples.size(), expected.cosine_samples.size());
    EXPECT_EQ(t.null.p_value, expected.p_value);
    EXPECT_EQ(t.null.z, expected.z);
    if (p == 3) {
      EXPECT_FALSE(t.null.available);
      EXPECT_EQ(t.null.reason, "non-finite values");
    } else if (plan_.pairs[p].test_unit < 0) {
      EXPECT_FALSE(t.null.available);
      EXPECT_EQ(t.null.reason, plan_.pairs[p].untested);
    } else {
      EXPECT_TRUE(t.null.available);
      EXPECT_EQ(t.null.permutations, plan_.units.at(static_cast<std::size_t>(plan_.pairs[p].test_unit)).permutations);
      EXPECT_GE(t.null.p_value, t.null.p_floor);
      EXPECT_LE(t.null.p_value, 1);
    }
  }
}

TEST_F(ReportModel, EvidenceGroupsTheUsableUnitsByLayerAndFamily) {
  const auto& evidence = report_.evidence;
  std::size_t usable = 0;
  for (const auto& u : report_.units) usable += u.available;
  EXPECT_GT(usable, 0U);
  std::size_t in_families = 0;
  for (const auto& f : evidence.families) {
    if (f.descriptive) continue;
    in_families += f.tensors;
    EXPECT_GT(f.tensors, 0U) << f.name;
  }
  EXPECT_EQ(in_families, usable);
  std::size_t in_layers = 0;
  for (const auto& l : evidence.layers) in_layers += l.tensors;
  EXPECT_EQ(in_layers, usable);
  EXPECT_EQ(evidence.verdict.units, usable);
  // Independent random data on both sides, full coverage.
  EXPECT_EQ(evidence.verdict.label, "no evidence of derivation");
  EXPECT_EQ(evidence.verdict.alpha, test_alpha);
  EXPECT_GT(evidence.verdict.p_global, test_alpha);
}

TEST_F(ReportModel, JsonCarriesVerdictFamiliesAndPerTensorNulls) {
  const nlohmann::json doc = nlohmann::json::parse(report_json_text(report_));
  const auto& verdict = doc.at("verdict");
  EXPECT_EQ(verdict.at("label"), report_.evidence.verdict.label);
  EXPECT_EQ(verdict.at("p_global").get<double>(), report_.evidence.verdict.p_global);
  EXPECT_EQ(verdict.at("alpha").get<double>(), test_alpha);
  EXPECT_EQ(verdict.at("evidence").size(), report_.evidence.verdict.evidence.size());
  EXPECT_EQ(verdict.at("notes").size(), report_.evidence.verdict.notes.size());
  EXPECT_FALSE(verdict.at("invariances_tested").empty());
  EXPECT_FALSE(verdict.at("invariances_not_tested").empty());
  EXPECT_EQ(doc.at("families").size(), report_.evidence.families.size());
  EXPECT_EQ(doc.at("layers").size(), report_.evidence.layers.size());
  const auto& tensors = doc.at("tensors");
  ASSERT_EQ(tensors.size(), report_.tensors.size());
  for (std::size_t p = 0; p < report_.tensors.size(); ++p) {
    const auto& t = report_.tensors[p];
    const auto& null = tensors[p].at("null");
    EXPECT_EQ(null.at("available"), t.null.available);
    if (t.null.available) {
      EXPECT_EQ(tensors[p].at("p_value").get<double>(), t.null.p_value);
      EXPECT_EQ(null.at("permutations"), t.null.permutations);
      EXPECT_EQ(null.at("unit"), t.null.unit);
      EXPECT_EQ(null.at("p_permutation").get<double>(), t.null.p_permutation);
      EXPECT_EQ(null.at("cosine").at("mean").get<double>(), t.null.cosine.mean);
    } else {
      EXPECT_TRUE(tensors[p].at("p_value").is_null());
      EXPECT_EQ(null.at("reason"), t.null.reason);
    }
    EXPECT_TRUE(null.at("closed_form").contains("disagrees"));
  }
}

TEST(ReportModelEmpty, NoCommonTensorsGivesStatusNoTensorPairs) {
  const checkpoint a = test::make_checkpoint("/a", "", {{"x.w", {4}, dtype::f32}, {"y.w", {4}, dtype::f32}});
  const checkpoint b = test::make_checkpoint("/b", "", {{"z.w", {4}, dtype::f32}});
  const work_plan plan = make_plan(a, b, registry(), {10, 1, {}});
  ASSERT_TRUE(plan.pairs.empty());
  const comparison_report report = build_report(plan, {}, {}, {}, {}, at_alpha(test_alpha));
  EXPECT_EQ(report.status(), "no tensor pairs");
  EXPECT_TRUE(report.tensors.empty());
  EXPECT_TRUE(report.roles.empty());
  EXPECT_EQ(report.unpaired_a, 2U);
  EXPECT_EQ(report.unpaired_b, 1U);
  EXPECT_EQ(report.compared_elements, 0U);
  EXPECT_EQ(report.evidence.verdict.label, "inconclusive");
  EXPECT_TRUE(report.evidence.families.empty());
  const nlohmann::json doc = nlohmann::json::parse(report_json_text(report));
  EXPECT_EQ(doc.at("status"), "no tensor pairs");
  EXPECT_EQ(doc.at("verdict").at("label"), "inconclusive");
  EXPECT_TRUE(doc.at("families").empty());
}

TEST(ReportModelEmpty, OneMergedResultPerPairIsRequired) {
  const checkpoint a = test::make_checkpoint("/a", "", {{"x.w", {4}, dtype::f32}});
  const work_plan plan = make_plan(a, a, registry(), {10, 1, {}});
  const std::vector<null_samples> one_null(1);
  EXPECT_THROW((void)build_report(plan, {}, one_null, {}, {}, at_alpha(test_alpha)), internal_error);
  EXPECT_THROW((void)build_report(plan, std::vector<pair_moments>(2), one_null, {}, {}, at_alpha(test_alpha)), internal_error);
  // And one null per pair.
  EXPECT_THROW((void)build_report(plan, std::vector<pair_moments>(1), {}, {}, {}, at_alpha(test_alpha)), internal_error);
  EXPECT_THROW((void)build_report(plan, std::vector<pair_moments>(1), std::vector<null_samples>(2), {}, {}, at_alpha(test_alpha)),
               internal_error);
  EXPECT_NO_THROW((void)build_report(plan, std::vector<pair_moments>(1), one_null, {}, {}, at_alpha(test_alpha)));
}

}  // namespace
}  // namespace lineage
