// Evidence from the order of layers (reduce/layer_structure.cpp): the cross-layer diagonal test
// and the monotone depth alignment, on layer × layer matrices whose answer is known.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "reduce/layer_structure.hpp"
#include "reduce/probability.hpp"

namespace {

using namespace lineage;

std::vector<std::int32_t> layer_range(std::int32_t count) {
  std::vector<std::int32_t> layers;
  for (std::int32_t i = 0; i < count; ++i) layers.push_back(i);
  return layers;
}

// A role's figures with `pearson` (rows = layers_a), ready for align_depth.
cross_layer_figures role_figures(std::vector<std::int32_t> layers_a, std::vector<std::int32_t> layers_b,
                                 std::vector<double> pearson, std::string role = "mlp.up_proj.weight") {
  cross_layer_figures f;
  f.role = std::move(role);
  f.layers_a = std::move(layers_a);
  f.layers_b = std::move(layers_b);
  f.pearson = std::move(pearson);
  f.cosine = f.pearson;
  f.available = true;
  return f;
}

// Through derive_cross_layer, as the reduction does: a plan with one unit per role.
std::vector<cross_layer_figures> derived(const std::vector<cross_layer_figures>& roles, std::uint64_t seed) {
  work_plan plan;
  std::vector<cross_layer_result> results;
  for (const auto& f : roles) {
    cross_layer_request request;
    request.role = f.role;
    request.layers_a = f.layers_a;
    request.layers_b = f.layers_b;
    request.rows = 4;
    request.row_length = 16;
    request.sampled_rows = {0, 1, 2, 3};
    plan.cross_layers.push_back(request);
    cross_layer_result result;
    result.request = static_cast<std::uint32_t>(results.size());
    result.usable = f.available;
    result.pearson = f.pearson;
    result.cosine = f.cosine;
    results.push_back(result);
  }
  return derive_cross_layer(plan, results, seed);
}

// Noise of sd `sd` everywhere, plus `value` where B's layer j copies A's layer source[j].
std::vector<double> copied_layers(std::size_t rows, const std::vector<std::size_t>& source, double value, double sd,
                                  std::mt19937_64& rng) {
  std::normal_distribution<double> noise(0.0, sd);
  std::vector<double> m(rows * source.size());
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < source.size(); ++j)
      m[i * source.size() + j] = noise(rng) + (source[j] == i ? value : 0.0);
  return m;
}

std::vector<double> unrelated(std::size_t rows, std::size_t columns, std::mt19937_64& rng) {
  std::normal_distribution<double> noise(0.0, 0.01);
  std::vector<double> m(rows * columns);
  for (double& v : m) v = noise(rng);
  return m;
}

TEST(CrossLayer, LayerSpecificMatchesGiveASmallPAndRankPerLayer) {
  std::mt19937_64 rng(1);
  std::vector<std::size_t> identity;
  for (std::size_t i = 0; i < 8; ++i) identity.push_back(i);
  const auto roles = derived({role_figures(layer_range(8), layer_range(8), copied_layers(8, identity, 0.9, 0.02, rng))}, 7);
  ASSERT_EQ(roles.size(), 1u);
  const auto& f = roles[0];
  ASSERT_TRUE(f.available) << f.reason;
  EXPECT_EQ(f.common, 8u);
  EXPECT_NEAR(f.diagonal_mean, 0.9, 0.03);
  EXPECT_NEAR(f.off_diagonal_mean, 0.0, 0.01);
  EXPECT_EQ(f.permutations, layer_order_permutations);
  EXPECT_GT(f.z, 5);
  // Beyond every one of 999 permutations: at the floor 1/1000, never below it.
  EXPECT_LE(f.p_value, 1e-3);
  ASSERT_EQ(f.diagonal_rank_p.size(), 8u);
  // Each diagonal entry beats the 14 others in its row and column: (1 + 0) / (1 + 14).
  for (const double p : f.diagonal_rank_p) EXPECT_DOUBLE_EQ(p, 1.0 / 15.0);
}

TEST(CrossLayer, DiagonalTestIsUniformForUnrelatedLayers) {
  std::mt19937_64 rng(2);
  std::vector<double> p_values;
  for (int trial = 0; trial < 300; ++trial) {
    const auto roles = derived({role_figures(layer_range(6), layer_range(6), unrelated(6, 6, rng))},
                               static_cast<std::uint64_t>(trial));
    ASSERT_TRUE(roles[0].available);
    p_values.push_back(roles[0].p_value);
  }
  const combined_p ks = kolmogorov_smirnov_uniform(p_values);
  EXPECT_GT(ks.p, 0.01) << "KS D = " << ks.statistic;
  const auto small = std::count_if(p_values.begin(), p_values.end(), [](double p) { return p <= 0.05; });
  EXPECT_LE(small, 30) << "300 unrelated matrices, expected about 15 p-values <= 0.05";
}

TEST(CrossLayer, OnlyLayersBothModelsHaveEnterTheDiagonal) {
  std::mt19937_64 rng(3);
  // A has layers 0..7, B layers 0..4: five common layers.
  std::vector<std::size_t> first_five = {0, 1, 2, 3, 4};
  const auto roles =
      derived({role_figures(layer_range(8), layer_range(5), copied_layers(8, first_five, 0.8, 0.02, rng))}, 1);
  EXPECT_EQ(roles[0].common, 5u);
  EXPECT_EQ(roles[0].diagonal_rank_p.size(), 5u);
  EXPECT_LT(roles[0].p_value, 0.01);
}

TEST(CrossLayer, UndefinedEntriesMakeTheRoleUnavailable) {
  std::mt19937_64 rng(4);
  auto pearson = unrelated(4, 4, rng);
  pearson[5] = NAN;  // a constant layer
  const auto roles = derived({role_figures(layer_range(4), layer_range(4), pearson)}, 1);
  EXPECT_FALSE(roles[0].available);
  EXPECT_NE(roles[0].reason.find("constant"), std::string::npos) << roles[0].reason;
  const depth_alignment d = align_depth(roles, 1);
  EXPECT_FALSE(d.available);
  EXPECT_FALSE(d.reason.empty());
}

TEST(CrossLayer, SameSeedSameBits) {
  std::mt19937_64 rng(5);
  const auto input = role_figures(layer_range(5), layer_range(5), unrelated(5, 5, rng));
  const auto first = derived({input}, 11);
  const auto second = derived({input}, 11);
  const auto other_seed = derived({input}, 12);
  EXPECT_EQ(first[0].p_value, second[0].p_value);
  EXPECT_EQ(first[0].z, second[0].z);
  EXPECT_NE(first[0].p_value, other_seed[0].p_value);
}

TEST(DepthAlignment, IdenticalDepthAlignsLayerToLayer) {
  std::mt19937_64 rng(6);
  std::vector<std::size_t> identity = {0, 1, 2, 3, 4, 5, 6, 7};
  const auto roles = derived({role_figures(layer_range(8), layer_range(8), copied_layers(8, identity, 0.9, 0.02, rng))}, 3);
  const depth_alignment d = align_depth(roles, 3);
  ASSERT_TRUE(d.available) << d.reason;
  EXPECT_TRUE(d.is_identity);
  EXPECT_EQ(d.matched_a, layer_range(8));
  EXPECT_EQ(d.skipped_a, 0u);
  EXPECT_EQ(d.repeated, 0u);
  EXPECT_NEAR(d.score, 0.9, 0.03);
  EXPECT_LE(d.p_value, 1e-3);
}

TEST(DepthAlignment, DroppedLayersAreSkipped) {
  std::mt19937_64 rng(7);
  // B is A without layers 3 and 5 (pruning), renumbered 0..5.
  const std::vector<std::size_t> source = {0, 1, 2, 4, 6, 7};
  const auto roles =
      derived({role_figures(layer_range(8), layer_range(6), copied_layers(8, source, 0.7, 0.02, rng))}, 3);
  const depth_alignment d = align_depth(roles, 3);
  ASSERT_TRUE(d.available);
  EXPECT_EQ(d.matched_a, (std::vector<std::int32_t>{0, 1, 2, 4, 6, 7}));
  EXPECT_FALSE(d.is_identity);
  EXPECT_EQ(d.skipped_a, 2u);
  EXPECT_EQ(d.repeated, 0u);
  EXPECT_LT(d.p_value, 0.01);
}

TEST(DepthAlignment, DuplicatedLayersRepeatTheirSource) {
  std::mt19937_64 rng(8);
  // Depth up-scaling: layers 2, 3 and 4 repeated right after themselves.
  const std::vector<std::size_t> source = {0, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7};
  const auto roles =
      derived({role_figures(layer_range(8), layer_range(11), copied_layers(8, source, 0.7, 0.02, rng))}, 3);
  const depth_alignment d = align_depth(roles, 3);
  ASSERT_TRUE(d.available);
  EXPECT_EQ(d.matched_a, (std::vector<std::int32_t>{0, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7}));
  EXPECT_EQ(d.skipped_a, 0u);
  EXPECT_EQ(d.repeated, 3u);
  EXPECT_LE(d.p_value, 1e-3);
}

TEST(DepthAlignment, RolesAreAveragedOverTheLayersEachHas) {
  std::mt19937_64 rng(9);
  const std::vector<std::size_t> identity = {0, 1, 2, 3, 4, 5};
  // One role covers layers 0..5 on both sides; another only 1..5 of A and 0..5 of B (a
  // dense-first layer 0 with another MLP in A): the union of layers enters the alignment.
  auto full = role_figures(layer_range(6), layer_range(6), copied_layers(6, identity, 0.8, 0.02, rng), "input_layernorm.weight");
  const std::vector<std::size_t> shifted = {99, 0, 1, 2, 3, 4};  // B's layer j copies A's layer j (A rows are 1..5)
  std::vector<double> part(5 * 6);
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t j = 0; j < 6; ++j) part[i * 6 + j] = shifted[j] == i ? 0.8 : 0.0;
  auto partial = role_figures({1, 2, 3, 4, 5}, layer_range(6), part, "mlp.experts_like.weight");
  const depth_alignment d = align_depth(derived({full, partial}, 5), 5);
  ASSERT_TRUE(d.available);
  EXPECT_EQ(d.layers_a, layer_range(6));
  EXPECT_EQ(d.layers_b, layer_range(6));
  EXPECT_TRUE(d.is_identity);
  // Layer 0 of B against layer 0 of A is seen by one role only: its mean is that role's value.
  EXPECT_NEAR(d.similarity[0], full.pearson[0], 1e-12);
}

TEST(DepthAlignment, ScoreIsUniformForUnrelatedModels) {
  std::mt19937_64 rng(10);
  std::vector<double> p_values;
  for (int trial = 0; trial < 200; ++trial) {
    const auto roles = derived({role_figures(layer_range(6), layer_range(5), unrelated(6, 5, rng))},
                               static_cast<std::uint64_t>(trial));
    const depth_alignment d = align_depth(roles, static_cast<std::uint64_t>(trial));
    ASSERT_TRUE(d.available);
    p_values.push_back(d.p_value);
  }
  const combined_p ks = kolmogorov_smirnov_uniform(p_values);
  EXPECT_GT(ks.p, 0.01) << "KS D = " << ks.statistic;
}

TEST(DepthAlignment, NeedsTwoLayersOnEachSide) {
  const auto roles = derived({role_figures({0}, {0, 1}, {0.5, 0.1})}, 1);
  const depth_alignment d = align_depth(roles, 1);
  EXPECT_FALSE(d.available);
  EXPECT_NE(d.reason.find("two layers"), std::string::npos) << d.reason;
}

}  // namespace
