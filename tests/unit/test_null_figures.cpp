// The figures drawn from the permutation null (reduce/null_figures): uniform p-values for
// unrelated tensors, and the tests, floors and closed forms null_figures derives.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "reduce/null_figures.hpp"
#include "reduce/probability.hpp"
#include "reduce/tensor_stats.hpp"
#include "shard/kernel.hpp"
#include "shard/permutation_null.hpp"
#include "shard/work_block.hpp"
#include "permutation_null_support.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using namespace null_test;  // NOLINT: the reference and the helpers every test here uses

// --- calibration ----------------------------------------------------------------------------------

// The p-values of `pairs` unrelated pairs: matrices (rows, columns, conv column blocks in turn)
// tested on D, or vectors tested on T (every other one like a norm weight: mean 1, sd 0.1, so
// that raw cosine is near 1).
std::vector<double> unrelated_p_values(bool matrices, bool products, int pairs, bool norm_like_only) {
  const view_shape matrix_views[] = {{8, 12}, {6, 10, 1, 1}, {4, 18, 1, 3}};
  std::vector<double> p_values;
  for (int i = 0; i < pairs; ++i) {
    const bool norm_like = norm_like_only || i % 2 == 1;
    const view_shape view = matrices ? matrix_views[i % 3] : view_shape{1, 64, 1, 1};
    const std::size_t n = view.rows * view.row_length;
    const double mean = norm_like && !matrices ? 1.0 : 0.0, sd = norm_like && !matrices ? 0.1 : 1.0;
    const typed_vector a = random_values(dtype::f32, n, mean, sd, 1000 + 2 * i);
    const typed_vector b = random_values(dtype::f32, n, mean, sd, 1001 + 2 * i);
    const null_samples samples = run_null(make_request(a, b, view, 199, 77 + i, products), a, b);
    const pair_moments moments = pair_moments::from_block(compute_block_sums(a.run(), b.run(), n));
    const null_figures figures =
        derive_null_figures(samples, moments, derive_similarity(moments).pearson, 0.01, "units");
    EXPECT_TRUE(figures.available);
    EXPECT_EQ(figures.test, matrices ? "slice directions" : "products");
    p_values.push_back(figures.p_value);
  }
  return p_values;
}

TEST(PermutationNullCalibration, PValuesOfUnrelatedTensorsAreUniform) {
  for (const bool products : both_backends) {
    for (const bool matrices : {true, false}) {
      SCOPED_TRACE(testing::Message() << backend_name(products) << (matrices ? ", matrices" : ", vectors"));
      const std::vector<double> p_values = unrelated_p_values(matrices, products, 300, false);
      double total = 0;
      int small = 0;
      for (const double p : p_values) total += p, small += p <= 0.05;
      EXPECT_NEAR(total / 300, 0.5, 0.05);
      EXPECT_GE(small, 0.02 * 300);
      EXPECT_LE(small, 0.09 * 300);
      EXPECT_GT(kolmogorov_smirnov_uniform(p_values).p, 0.001);
    }
    // Only norm-like vectors (raw cosine ≈ 0.99 for every pair).
    SCOPED_TRACE(testing::Message() << backend_name(products) << ", norm-like vectors");
    EXPECT_GT(kolmogorov_smirnov_uniform(unrelated_p_values(false, products, 300, true)).p, 0.001);
  }
}

// --- null_figures ---------------------------------------------------------------------------------

// A related pair (B = A + noise) and its figures.
struct figures_case {
  typed_vector a, b;
  pair_moments moments;
  null_samples samples;
  null_figures figures;
};

figures_case figures_for(const view_shape& view, double mean, std::uint64_t seed, std::uint32_t k = 99) {
  figures_case c;
  const std::size_t n = view.rows * view.row_length;
  c.a = random_values(dtype::f32, n, mean, 0.5, seed);
  std::vector<double> values = test::normal_values(n, 0.0, 1.0, seed + 1);
  for (std::size_t i = 0; i < n; ++i) values[i] += test::reference_value(c.a, i);
  c.b = test::encode(dtype::f32, values);
  c.moments = pair_moments::from_block(compute_block_sums(c.a.run(), c.b.run(), n));
  c.samples = run_null(make_request(c.a, c.b, view, k, seed, false), c.a, c.b);
  c.figures = derive_null_figures(c.samples, c.moments, derive_similarity(c.moments).pearson, 0.01, "rows (neuron)");
  return c;
}

TEST(PermutationNullFigures, TestSumCountsTiesAndNeverGoesBelowTheFloor) {
  const std::vector<double> t = {1, 2, 2, 3, 0};  // K = 5, mean 1.6, sd √1.3
  // Observed 2: one draw above, two equal. Conservative (1 + 3) / 6; randomized (1 + U·3) / 6.
  const sum_test tied = test_sum(2, t, 0.25);
  EXPECT_DOUBLE_EQ(tied.p_permutation, 4.0 / 6);
  EXPECT_DOUBLE_EQ(tied.p_value, (1 + 0.25 * 3) / 6);
  EXPECT_DOUBLE_EQ(tied.p_floor, 1.0 / 6);
  EXPECT_DOUBLE_EQ(tied.log10_p_value, std::log10(tied.p_value));
  EXPECT_NEAR(tied.z, (2 - 1.6) / std::sqrt(1.3), 1e-12);
  EXPECT_FALSE(tied.beyond_all);
  EXPECT_DOUBLE_EQ(test_sum(2, t, 1.0).p_value, 4.0 / 6);  // U = 1: the conservative p
  // Equal to the largest draw: not beyond all; the randomized p may go down to the floor, no lower.
  const sum_test at_max = test_sum(3, t, 0.5);
  EXPECT_FALSE(at_max.beyond_all);
  EXPECT_DOUBLE_EQ(at_max.p_permutation, 2.0 / 6);
  EXPECT_DOUBLE_EQ(at_max.p_value, 0.5 * 2 / 6);
  EXPECT_DOUBLE_EQ(test_sum(3, t, 0.1).p_value, 1.0 / 6);
  // Below every draw.
  const sum_test below = test_sum(-5, t, 0.5);
  EXPECT_DOUBLE_EQ(below.p_permutation, 1.0);
  EXPECT_DOUBLE_EQ(below.p_value, 5.5 / 6);
  // Beyond every draw, however far and whatever U: the floor, no extrapolated tail.
  for (const double observed : {3.5, 10.0, 1e6})
    for (const double u : {1e-9, 0.5, 1.0}) {
      const sum_test beyond = test_sum(observed, t, u);
      EXPECT_TRUE(beyond.beyond_all);
      EXPECT_DOUBLE_EQ(beyond.p_permutation, 1.0 / 6);
      EXPECT_DOUBLE_EQ(beyond.p_value, 1.0 / 6);
      EXPECT_NEAR(beyond.z, (observed - 1.6) / std::sqrt(1.3), 1e-9 * observed);
    }
  // All draws equal (sd 0): no z.
  const sum_test flat = test_sum(10, {1, 1, 1}, 0.5);
  EXPECT_TRUE(flat.beyond_all);
  EXPECT_EQ(flat.z, 0);
  EXPECT_DOUBLE_EQ(flat.p_value, 0.25);
}

TEST(PermutationNullFigures, RandomizedPIsBetweenTheFloorAndTheConservativeP) {
  random_stream stream(3, "test", "test_sum");
  std::vector<double> t(49);
  for (int trial = 0; trial < 200; ++trial) {
    for (auto& v : t) v = std::round(4 * stream.normal());  // ties
    const double observed = std::round(4 * stream.normal()), u = 1 - stream.uniform();
    const sum_test test = test_sum(observed, t, u);
    EXPECT_GE(test.p_value, test.p_floor);
    EXPECT_LE(test.p_value, test.p_permutation);
    EXPECT_DOUBLE_EQ(test.p_floor, 1.0 / 50);
  }
}

TEST(PermutationNullFigures, MatricesAreTestedOnSliceDirections) {
  const figures_case c = figures_for({40, 12}, 0.7, 21);
  const null_figures& f = c.figures;
  ASSERT_TRUE(f.available);
  EXPECT_EQ(f.unit, "rows (neuron)");
  EXPECT_EQ(f.test, "slice directions");
  EXPECT_TRUE(f.directions);
  EXPECT_FALSE(f.folded);
  EXPECT_EQ(f.permutations, 99U);
  EXPECT_DOUBLE_EQ(f.p_floor, 1.0 / 100);
  EXPECT_DOUBLE_EQ(f.direction_cosine, c.samples.direction_observed / 40);
  ASSERT_EQ(f.direction_samples.size(), 99U);
  for (std::size_t k = 0; k < 99; ++k) EXPECT_DOUBLE_EQ(f.direction_samples[k], c.samples.direction_t[k] / 40);
  const sum_test on_d = test_sum(c.samples.direction_observed, c.samples.direction_t, c.samples.randomizer);
  const sum_test on_t = test_sum(c.samples.observed, c.samples.t, c.samples.randomizer);
  EXPECT_EQ(f.p_value, on_d.p_value);
  EXPECT_EQ(f.direction_p, on_d.p_value);
  EXPECT_EQ(f.z, on_d.z);
  EXPECT_EQ(f.direction_z, on_d.z);
  EXPECT_EQ(f.products_p_value, on_t.p_value);
  EXPECT_EQ(f.products_z, on_t.z);
  // Related: beyond every draw, p at the floor and no lower.
  EXPECT_TRUE(f.beyond_all);
  EXPECT_GT(f.z, 5);
  EXPECT_DOUBLE_EQ(f.p_permutation, 1.0 / 100);
  EXPECT_DOUBLE_EQ(f.p_value, 1.0 / 100);
  EXPECT_NEAR(f.log10_p_value, -2, 1e-12);
  // More draws, a lower floor.
  const figures_case more = figures_for({40, 12}, 0.7, 21, 999);
  EXPECT_DOUBLE_EQ(more.figures.p_value, 1.0 / 1000);
}

TEST(PermutationNullFigures, VectorsAreTestedOnProducts) {
  const figures_case c = figures_for({1, 300, 1, 1}, 1.0, 41);
  const null_figures& f = c.figures;
  ASSERT_TRUE(f.available);
  EXPECT_EQ(f.test, "products");
  EXPECT_FALSE(f.directions);
  const sum_test on_t = test_sum(c.samples.observed, c.samples.t, c.samples.randomizer);
  EXPECT_EQ(f.p_value, on_t.p_value);
  EXPECT_EQ(f.p_permutation, on_t.p_permutation);
  EXPECT_EQ(f.z, on_t.z);
  EXPECT_DOUBLE_EQ(f.p_floor, 1.0 / 100);
  EXPECT_TRUE(f.beyond_all);
  EXPECT_DOUBLE_EQ(f.p_value, 1.0 / 100);
}

TEST(PermutationNullFigures, StatisticSamplesAreTheMonotoneImagesOfT) {
  const figures_case c = figures_for({40, 12}, 0.7, 21);
  const null_figures& f = c.figures;
  ASSERT_EQ(f.cosine_samples.size(), 99U);
  const pair_moments& m = c.moments;
  const double n = static_cast<double>(m.count);
  for (std::size_t k = 0; k < 99; ++k) {
    const double t = c.samples.t[k];
    EXPECT_NEAR(f.cosine_samples[k], t / std::sqrt(m.raw_aa * m.raw_bb), 1e-12);
    EXPECT_NEAR(f.pearson_samples[k], (t - n * m.mean_a * m.mean_b) / std::sqrt(m.m2_a * m.m2_b), 1e-12);
    EXPECT_NEAR(f.rel_l2_samples[k], std::sqrt(m.raw_aa + m.raw_bb - 2 * t) / std::sqrt(m.raw_aa), 1e-12);
    for (std::size_t j = 0; j < k; ++j)
      if (c.samples.t[j] < t) {
        EXPECT_LT(f.cosine_samples[j], f.cosine_samples[k]);
        EXPECT_LT(f.pearson_samples[j], f.pearson_samples[k]);
        EXPECT_GT(f.rel_l2_samples[j], f.rel_l2_samples[k]);
      }
  }
  // T of the identity gives the pair's own figures (up to single-precision partial sums).
  const similarity s = derive_similarity(m);
  EXPECT_NEAR(c.samples.observed / std::sqrt(m.raw_aa * m.raw_bb), s.cosine, 1e-6);
  EXPECT_NEAR((c.samples.observed - n * m.mean_a * m.mean_b) / std::sqrt(m.m2_a * m.m2_b), s.pearson, 1e-6);
  std::vector<double> sorted = f.cosine_samples;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(f.cosine.min, sorted.front());
  EXPECT_EQ(f.cosine.max, sorted.back());
  EXPECT_EQ(f.cosine.q50, sorted[49]);
  EXPECT_LE(f.cosine.q01, f.cosine.q50);
  EXPECT_LE(f.cosine.q50, f.cosine.q99);
}

TEST(PermutationNullFigures, ClosedFormIsRootNTimesPearson) {
  const figures_case c = figures_for({1, 300, 1, 1}, 1.0, 41);
  const null_figures& f = c.figures;
  const double n = static_cast<double>(c.moments.count);
  const double r = derive_similarity(c.moments).pearson;
  EXPECT_EQ(f.closed_z, std::sqrt(n) * r);
  EXPECT_EQ(f.closed_p, normal_upper_tail(f.closed_z));
  EXPECT_NEAR(f.null_sd_ratio, f.pearson.sd * std::sqrt(n), 1e-15);
  EXPECT_NEAR(f.null_sd_ratio, 1.0, 0.25);  // independent elements: Pearson's null sd ≈ 1/√n
  EXPECT_FALSE(f.closed_form_disagrees);
  // A Pearson the closed form calls significant while the permutation null does not.
  null_samples unremarkable = c.samples;
  std::vector<double> sorted = c.samples.t;
  std::sort(sorted.begin(), sorted.end());
  unremarkable.observed = sorted[sorted.size() / 2];
  const null_figures d = derive_null_figures(unremarkable, c.moments, 0.3, 0.01, "elements");
  EXPECT_LT(d.closed_p, 0.01);
  EXPECT_GT(d.p_value, 0.01);
  EXPECT_TRUE(d.closed_form_disagrees);
}

TEST(PermutationNullFigures, SubsetFiguresAreOfTheTestedElements) {
  const typed_vector a = random_values(dtype::f32, 10 * 9, 0.0, 1.0, 51);
  const typed_vector b = random_values(dtype::f32, 10 * 9, 0.0, 1.0, 52);
  null_request request = make_request(a, b, {10, 9}, 49, 17, false);
  request.exclude_begin = 2, request.exclude_end = 5;
  use_plain_group(request);
  const null_samples samples = run_null(request, a, b);
  const pair_moments all = pair_moments::from_block(compute_block_sums(a.run(), b.run(), a.size()));
  const null_figures f = derive_null_figures(samples, all, derive_similarity(all).pearson, 0.01, "rows");
  ASSERT_TRUE(f.available);
  EXPECT_TRUE(f.subset);
  EXPECT_EQ(f.tested_units, 7U);
  const similarity tested = derive_similarity(samples.tested);
  EXPECT_EQ(f.tested_cosine, tested.cosine);
  EXPECT_EQ(f.tested_pearson, tested.pearson);
  EXPECT_EQ(f.closed_z, std::sqrt(63.0) * tested.pearson);
  EXPECT_DOUBLE_EQ(f.direction_cosine, samples.direction_observed / 7);
  const double norm_product = std::sqrt(samples.tested.raw_aa * samples.tested.raw_bb);
  EXPECT_DOUBLE_EQ(f.cosine_samples.front(), samples.t.front() / norm_product);
}

TEST(PermutationNullFigures, UnusableSamplesKeepTheirReasonAndTheClosedForm) {
  const figures_case c = figures_for({1, 50, 1, 1}, 0.0, 51);
  null_samples unusable;
  unusable.reason = "non-finite values";
  const double r = derive_similarity(c.moments).pearson;
  const null_figures f = derive_null_figures(unusable, c.moments, r, 0.01, "elements");
  EXPECT_FALSE(f.available);
  EXPECT_EQ(f.reason, "non-finite values");
  EXPECT_EQ(f.p_value, 1);
  EXPECT_TRUE(f.cosine_samples.empty());
  EXPECT_EQ(f.closed_z, std::sqrt(50.0) * r);
  EXPECT_FALSE(f.closed_form_disagrees);
  null_samples none;
  none.usable = true;
  const null_figures empty = derive_null_figures(none, c.moments, r, 0.01, "rows");
  EXPECT_FALSE(empty.available);
  EXPECT_EQ(empty.reason, "no permutations drawn");
  EXPECT_EQ(empty.unit, "rows");
}

}  // namespace
}  // namespace lineage
