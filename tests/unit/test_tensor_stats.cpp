// Figures derived from merged moments (reduce/tensor_stats): closed forms, undefined cases, and the
// LayerNorm illusion — raw cosine of unrelated positive-mean vectors is near 1, Pearson is not.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "reduce/tensor_stats.hpp"
#include "shard/block_stats.hpp"
#include "shard/kernel.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using test::typed_vector;

similarity figures(dtype type, const std::vector<double>& a, const std::vector<double>& b) {
  const typed_vector ta = test::encode(type, a), tb = test::encode(type, b);
  return derive_similarity(pair_moments::from_block(compute_block_sums(ta.run(), tb.run(), a.size())));
}

std::vector<double> transformed(const std::vector<double>& a, double scale, double offset) {
  std::vector<double> b(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) b[i] = scale * a[i] + offset;
  return b;
}

TEST(TensorStats, OrthogonalVectorsHaveZeroCosine) {
  std::vector<double> a(1000), b(1000);
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = i % 2 == 0 ? 1.0 : 0.0;
    b[i] = i % 2 == 0 ? 0.0 : 1.0;
  }
  for (const dtype t : {dtype::f64, dtype::f32, dtype::bf16}) {
    const similarity s = figures(t, a, b);
    EXPECT_NEAR(s.cosine, 0.0, 1e-12) << dtype_name(t);
    EXPECT_NEAR(s.pearson, -1.0, 1e-12) << dtype_name(t);  // b = 1 - a
    EXPECT_NEAR(s.norm_ratio, 1.0, 1e-12);
    EXPECT_NEAR(s.rel_l2, std::sqrt(2.0), 1e-12);
  }
}

TEST(TensorStats, PearsonOfAffineImages) {
  const auto a = test::normal_values(5000, 0.4, 1.3, 1);
  const similarity up = figures(dtype::f64, a, transformed(a, 3.0, 2.0));
  EXPECT_NEAR(up.pearson, 1.0, 1e-12);
  EXPECT_LT(up.cosine, 0.99);  // the offset bends the raw cosine, not the centred one
  const similarity down = figures(dtype::f64, a, transformed(a, -1.0, 0.0));
  EXPECT_NEAR(down.pearson, -1.0, 1e-12);
  EXPECT_NEAR(down.cosine, -1.0, 1e-12);
  EXPECT_NEAR(down.norm_ratio, 1.0, 1e-12);
  EXPECT_NEAR(down.rel_l2, 2.0, 1e-12);
  // In F32 the images are rounded, so within the float rounding of the inputs.
  const similarity up32 = figures(dtype::f32, a, transformed(a, 3.0, 2.0));
  EXPECT_NEAR(up32.pearson, 1.0, 1e-6);
}

TEST(TensorStats, RelativeL2AndNormRatio) {
  const auto a = test::normal_values(3000, -0.2, 0.7, 2);
  const similarity same = figures(dtype::f64, a, a);
  EXPECT_EQ(same.rel_l2, 0.0);
  EXPECT_EQ(same.norm_ratio, 1.0);
  const similarity twice = figures(dtype::f64, a, transformed(a, 2.0, 0.0));
  EXPECT_NEAR(twice.rel_l2, 1.0, 1e-12);
  EXPECT_NEAR(twice.norm_ratio, 2.0, 1e-12);
  EXPECT_NEAR(twice.cosine, 1.0, 1e-12);
  const similarity half = figures(dtype::bf16, a, transformed(a, 0.5, 0.0));  // exact in BF16
  EXPECT_NEAR(half.rel_l2, 0.5, 1e-6);
  EXPECT_NEAR(half.norm_ratio, 0.5, 1e-6);
  EXPECT_EQ(half.bitwise_equal_fraction, 0.0);
}

TEST(TensorStats, MeansStandardDeviationsAndCoefficientsOfVariation) {
  const auto a = test::normal_values(4000, 2.0, 0.5, 3);
  const auto b = test::normal_values(4000, -4.0, 1.0, 4);
  const similarity s = figures(dtype::f64, a, b);
  const auto stats = [](const std::vector<double>& v) {
    long double sum = 0, sq = 0;
    for (double x : v) sum += x;
    const long double mean = sum / v.size();
    for (double x : v) sq += (x - mean) * (x - mean);
    return std::pair<double, double>(static_cast<double>(mean),
                                     static_cast<double>(std::sqrt(sq / (v.size() - 1))));
  };
  const auto [mean_a, std_a] = stats(a);
  const auto [mean_b, std_b] = stats(b);
  EXPECT_NEAR(s.mean_a, mean_a, 1e-13);
  EXPECT_NEAR(s.std_a, std_a, 1e-12);  // n − 1 in the denominator
  EXPECT_NEAR(s.mean_b, mean_b, 1e-13);
  EXPECT_NEAR(s.std_b, std_b, 1e-12);
  EXPECT_NEAR(s.cv_a, std_a / mean_a, 1e-12);
  EXPECT_NEAR(s.cv_b, std_b / 4.0, 0.05);
  EXPECT_GT(s.cv_b, 0.0);  // |mean| in the denominator: a negative mean gives a positive cv
  EXPECT_NEAR(s.cv_b, std_b / std::fabs(mean_b), 1e-12);
}

TEST(TensorStats, UndefinedFiguresAreNaN) {
  const std::vector<double> zero(100, 0.0);
  const auto a = test::normal_values(100, 1.0, 1.0, 5);
  const similarity both_zero = figures(dtype::bf16, zero, zero);
  EXPECT_TRUE(std::isnan(both_zero.cosine));
  EXPECT_TRUE(std::isnan(both_zero.pearson));
  EXPECT_TRUE(std::isnan(both_zero.rel_l2));
  EXPECT_TRUE(std::isnan(both_zero.norm_ratio));
  EXPECT_TRUE(std::isnan(both_zero.cv_a));  // std 0 over mean 0
  EXPECT_EQ(both_zero.bitwise_equal_fraction, 1.0);
  const similarity b_zero = figures(dtype::f32, a, zero);
  EXPECT_TRUE(std::isnan(b_zero.cosine));
  EXPECT_TRUE(std::isnan(b_zero.pearson));
  EXPECT_NEAR(b_zero.rel_l2, 1.0, 1e-6);  // Σ(a−b)² and Σa² come from different float partials
  EXPECT_EQ(b_zero.norm_ratio, 0.0);
  const similarity a_zero = figures(dtype::f32, zero, a);
  EXPECT_TRUE(std::isnan(a_zero.cosine));
  EXPECT_TRUE(std::isnan(a_zero.rel_l2));  // relative to ‖a‖ = 0
  EXPECT_TRUE(std::isnan(a_zero.norm_ratio));

  // One finite pair: a mean but no standard deviation. None: not even a mean.
  const similarity one = figures(dtype::f32, {2.0}, {3.0});
  EXPECT_EQ(one.mean_a, 2.0);
  EXPECT_TRUE(std::isnan(one.std_a));
  EXPECT_TRUE(std::isnan(one.cv_a));
  EXPECT_EQ(one.cosine, 1.0);
  const similarity none = derive_similarity(pair_moments{});
  EXPECT_TRUE(std::isnan(none.mean_a));
  EXPECT_TRUE(std::isnan(none.std_b));
  EXPECT_TRUE(std::isnan(none.bitwise_equal_fraction));
}

TEST(TensorStats, BitwiseEqualFractionCountsAllPairs) {
  pair_moments m;
  m.elements = 8;
  m.count = 6;  // two pairs held a NaN
  m.bitwise_equal = 2;
  m.raw_aa = m.raw_bb = 1;
  EXPECT_DOUBLE_EQ(derive_similarity(m).bitwise_equal_fraction, 0.25);
}

TEST(TensorStats, CorrelationsAreClampedToUnitInterval) {
  pair_moments m;
  m.elements = m.count = 10;
  m.raw_aa = 2.0;
  m.raw_bb = 2.0;
  m.raw_ab = std::nextafter(2.0, 3.0);  // rounding put Σab a hair above √(Σa² Σb²)
  m.m2_a = m.m2_b = 1.0;
  m.c_ab = -std::nextafter(1.0, 2.0);
  const similarity s = derive_similarity(m);
  EXPECT_EQ(s.cosine, 1.0);
  EXPECT_EQ(s.pearson, -1.0);
}

// --- the LayerNorm illusion ------------------------------------------------------------------------

// Two independent N(1, 0.1²) vectors of 4096 elements, stored as BF16 like norm weights.
struct norm_pair {
  std::vector<double> a, b;
};
norm_pair independent_norm_weights(std::uint64_t seed) {
  norm_pair p{test::normal_values(4096, 1.0, 0.1, seed), test::normal_values(4096, 1.0, 0.1, seed + 1000)};
  for (auto* v : {&p.a, &p.b})
    for (auto& x : *v) x = test::reference_decode(dtype::bf16, float_to_bf16(static_cast<float>(x)));
  return p;
}

TEST(TensorStats, LayerNormIllusionRawCosineHighPearsonNear0) {
  const norm_pair p = independent_norm_weights(100);
  const similarity s = figures(dtype::bf16, p.a, p.b);
  const double predicted = 1.0 / std::sqrt((1 + s.cv_a * s.cv_a) * (1 + s.cv_b * s.cv_b));
  EXPECT_NEAR(s.cosine, predicted, 0.005);
  EXPECT_GT(s.cosine, 0.98);  // unrelated, yet "98% similar"
  EXPECT_LT(std::fabs(s.pearson), 0.06);
  EXPECT_NEAR(s.cv_a, 0.1, 0.01);

  // Shuffling one side destroys any alignment, and the raw cosine does not notice.
  std::vector<double> shuffled = p.b;
  std::mt19937_64 engine(7);
  std::shuffle(shuffled.begin(), shuffled.end(), engine);
  const similarity t = figures(dtype::bf16, p.a, shuffled);
  EXPECT_NEAR(t.cosine, s.cosine, 0.002);
  EXPECT_LT(std::fabs(t.pearson), 0.06);

  // A real relation (b = a + small noise) shows in Pearson, while the raw cosine barely moves.
  std::vector<double> derived = p.a;
  const auto noise = test::normal_values(derived.size(), 0.0, 0.02, 8);
  for (std::size_t i = 0; i < derived.size(); ++i) derived[i] += noise[i];
  const similarity d = figures(dtype::bf16, p.a, derived);
  EXPECT_GT(d.pearson, 0.95);
  EXPECT_GT(d.cosine, s.cosine);
  EXPECT_LT(d.cosine - s.cosine, 0.02);
}

// Over many independent pairs, √n·r behaves like N(0, 1) (the closed-form null).
TEST(TensorStats, PearsonOfIndependentVectorsFollowsClosedFormNull) {
  constexpr int pairs = 200;
  double sum = 0, sum_sq = 0;
  for (int k = 0; k < pairs; ++k) {
    const norm_pair p = independent_norm_weights(static_cast<std::uint64_t>(2000 + k));
    const double z = std::sqrt(4096.0) * figures(dtype::bf16, p.a, p.b).pearson;
    sum += z;
    sum_sq += z * z;
  }
  const double mean = sum / pairs, variance = sum_sq / pairs - mean * mean;
  EXPECT_LT(std::fabs(mean), 0.3);  // 4 standard errors of the mean
  EXPECT_GT(variance, 0.7);
  EXPECT_LT(variance, 1.35);
}

}  // namespace
}  // namespace lineage
