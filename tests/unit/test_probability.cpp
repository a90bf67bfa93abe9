// The distribution functions and p-value combinations of reduce/probability: values at points
// known in closed form or from tables, the Landau survival function against an independent
// quadrature, and the calibration of the harmonic mean p-value by simulation.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <string>
#include <vector>

#include "core/random_stream.hpp"
#include "reduce/probability.hpp"

namespace lineage {
namespace {

// --- normal and χ² tails ---------------------------------------------------------------------------

TEST(Probability, NormalUpperTailAtKnownPoints) {
  EXPECT_EQ(normal_upper_tail(0), 0.5);
  EXPECT_NEAR(normal_upper_tail(1.6448536269514722), 0.05, 1e-12);
  EXPECT_NEAR(normal_upper_tail(2.3263478740408408), 0.01, 1e-12);
  EXPECT_NEAR(normal_upper_tail(-1.959963984540054), 0.975, 1e-12);
  // Far in the tail the value keeps its relative accuracy (1 − Φ would round to 0).
  EXPECT_NEAR(normal_upper_tail(10) / 7.619853024160527e-24, 1.0, 1e-10);
  EXPECT_NEAR(normal_upper_tail(30) / 4.906713927148187e-198, 1.0, 1e-9);
  EXPECT_EQ(normal_upper_tail(INFINITY), 0);
  EXPECT_EQ(normal_upper_tail(-INFINITY), 1);
}

TEST(Probability, ChiSquareEvenTailMatchesClosedForms) {
  for (const double x : {0.01, 0.5, 1.0, 3.7, 10.0, 42.0, 200.0}) {
    SCOPED_TRACE(testing::Message() << "x = " << x);
    const double h = x / 2;
    // 2 degrees of freedom: e^{−x/2}.
    EXPECT_NEAR(chi_square_upper_tail_even(x, 1) / std::exp(-h), 1.0, 1e-12);
    // 4: e^{−h}(1 + h); 6: e^{−h}(1 + h + h²/2).
    EXPECT_NEAR(chi_square_upper_tail_even(x, 2) / (std::exp(-h) * (1 + h)), 1.0, 1e-12);
    EXPECT_NEAR(chi_square_upper_tail_even(x, 3) / (std::exp(-h) * (1 + h + h * h / 2)), 1.0, 1e-12);
  }
  // Deep in the tail, where e^{−h} alone would underflow the sum's terms: compare logarithms.
  // k = 5, x = 1400: Q = e^{−700} Σ_{j<5} 700^j / j!.
  const double h = 700;
  double series = 0, term = 1;
  for (int j = 0; j < 5; ++j) {
    series += term;
    term *= h / (j + 1);
  }
  EXPECT_NEAR(std::log(chi_square_upper_tail_even(1400, 5)), -h + std::log(series), 1e-9);
  // Edges: no p-values, or a statistic of 0.
  EXPECT_EQ(chi_square_upper_tail_even(3, 0), 1);
  EXPECT_EQ(chi_square_upper_tail_even(0, 4), 1);
  // Monotone in x, increasing in k.
  double previous = 1;
  for (double x = 0.5; x < 100; x *= 1.5) {
    const double q = chi_square_upper_tail_even(x, 7);
    EXPECT_LE(q, previous);
    EXPECT_LE(chi_square_upper_tail_even(x, 6), q);
    previous = q;
  }
}

// --- Fisher ----------------------------------------------------------------------------------------

TEST(Probability, FisherCombinationOfKnownInputs) {
  const std::vector<double> two = {0.05, 0.05};
  const combined_p f = fisher_combination(two);
  EXPECT_NEAR(f.statistic, -4 * std::log(0.05), 1e-12);
  EXPECT_NEAR(f.statistic, 11.98, 0.005);
  EXPECT_NEAR(f.p, 0.0175, 5e-5);
  // One p-value: Fisher returns it (χ²(2) survival of −2 ln p is p).
  const std::vector<double> one = {0.2};
  EXPECT_NEAR(fisher_combination(one).p, 0.2, 1e-14);
  // All ones: statistic 0, p 1. Empty: p 1.
  const std::vector<double> ones = {1, 1, 1};
  EXPECT_EQ(fisher_combination(ones).statistic, 0);
  EXPECT_EQ(fisher_combination(ones).p, 1);
  EXPECT_EQ(fisher_combination(std::vector<double>{}).p, 1);
  // A zero p-value does not make the statistic infinite.
  const std::vector<double> with_zero = {0.0, 0.5};
  EXPECT_TRUE(std::isfinite(fisher_combination(with_zero).statistic));
  EXPECT_LT(fisher_combination(with_zero).p, 1e-290);
}

// --- Landau ----------------------------------------------------------------------------------------

TEST(Probability, LandauUpperTailAtReferencePoints) {
  // Reference: (1/π) ∫₀^∞ e^{−t ln t − y t} sin(πt)/t dt by a fine trapezoid rule (4·10⁶ points).
  struct point {
    double y, tail;
  };
  for (const point p : {point{-3, 0.9999140782}, point{-1, 0.8863853585}, point{0, 0.713168},
                        point{1, 0.548983}, point{5, 0.226973}, point{100, 0.010429}}) {
    SCOPED_TRACE(testing::Message() << "y = " << p.y);
    EXPECT_NEAR(landau_upper_tail(p.y), p.tail, 1e-5);
  }
}

TEST(Probability, LandauUpperTailIsMonotoneWithTheRightLimits) {
  double previous = 1;
  for (double y = -5; y <= 1000; y += (y < 10 ? 0.05 : 1.0)) {
    const double q = landau_upper_tail(y);
    ASSERT_LE(q, previous + 1e-12) << "y = " << y;
    ASSERT_GE(q, 0);
    ASSERT_LE(q, 1);
    previous = q;
  }
  for (const double y : {-3.6, -10.0, -1e6}) EXPECT_EQ(landau_upper_tail(y), 1);
  // The right tail falls like 1/y (P(X > y) ≈ 1/y for the Landau law in this form).
  for (const double y : {1e4, 1e6, 1e9, 1e12}) {
    SCOPED_TRACE(testing::Message() << "y = " << y);
    EXPECT_NEAR(landau_upper_tail(y) * y, 1.0, 2e-3);
  }
}

// --- harmonic mean p-value ------------------------------------------------------------------------

TEST(Probability, HarmonicMeanOfOnePValueIsThatPValue) {
  for (const double p : {1e-12, 0.003, 0.5, 1.0}) {
    const std::vector<double> one = {p};
    const combined_p h = harmonic_mean_combination(one);
    EXPECT_EQ(h.statistic, p);
    EXPECT_EQ(h.p, p);
  }
  EXPECT_EQ(harmonic_mean_combination(std::vector<double>{}).p, 1);
  // The statistic is the harmonic mean.
  const std::vector<double> three = {0.1, 0.2, 0.4};
  EXPECT_NEAR(harmonic_mean_combination(three).statistic, 3 / (10 + 5 + 2.5), 1e-15);
  // Smaller p-values give a smaller combined p.
  const std::vector<double> smaller = {0.01, 0.2, 0.4};
  EXPECT_LT(harmonic_mean_combination(smaller).p, harmonic_mean_combination(three).p);
}

TEST(Probability, HarmonicMeanPValueIsCalibratedUnderTheNull) {
  // L ≤ 64 use the simulated null law (with the Landau tail far out), L = 100 the Landau law.
  constexpr int draws = 20000;
  for (const std::size_t count : {2u, 5u, 20u, 100u}) {
    SCOPED_TRACE(testing::Message() << "L = " << count);
    random_stream stream(7, "hmp calibration", std::to_string(count));
    std::vector<double> p(count);
    int below_01 = 0, below_05 = 0;
    for (int d = 0; d < draws; ++d) {
      for (auto& v : p) v = 1 - stream.uniform();  // in (0, 1]
      const double combined = harmonic_mean_combination(p).p;
      below_01 += combined <= 0.01;
      below_05 += combined <= 0.05;
    }
    EXPECT_GE(below_01, 0.007 * draws);
    EXPECT_LE(below_01, 0.013 * draws);
    EXPECT_GE(below_05, 0.042 * draws);
    EXPECT_LE(below_05, 0.058 * draws);
  }
}

// --- Holm–Šidák and Šidák --------------------------------------------------------------------------

TEST(Probability, SidakWithoutCancellation) {
  EXPECT_NEAR(sidak(0.05, 1), 0.05, 1e-15);
  EXPECT_NEAR(sidak(0.01, 4), 1 - std::pow(0.99, 4), 1e-15);
  // Tiny p: 1 − (1 − p)^m ≈ m·p, which the naive formula loses.
  EXPECT_NEAR(sidak(1e-20, 10) / 1e-19, 1.0, 1e-12);
  EXPECT_EQ(sidak(1, 3), 1);
  EXPECT_EQ(sidak(0, 3), 0);
}

TEST(Probability, HolmSidakMatchesHandComputedValues) {
  // Sorted: 0.01 (m = 4), 0.03 (3), 0.04 (2), 0.5 (1); each step at least the previous one.
  const std::vector<double> p = {0.01, 0.04, 0.03, 0.5};
  const std::vector<double> adjusted = holm_sidak(p);
  ASSERT_EQ(adjusted.size(), 4U);
  EXPECT_NEAR(adjusted[0], 1 - std::pow(0.99, 4), 1e-15);  // 0.03940399
  EXPECT_NEAR(adjusted[2], 1 - std::pow(0.97, 3), 1e-15);  // 0.087327
  EXPECT_NEAR(adjusted[1], 1 - std::pow(0.97, 3), 1e-15);  // max(0.0784, 0.087327)
  EXPECT_NEAR(adjusted[3], 0.5, 1e-15);
  EXPECT_TRUE(holm_sidak(std::vector<double>{}).empty());
  const std::vector<double> one = {0.2};
  EXPECT_EQ(holm_sidak(one), one);
}

TEST(Probability, HolmSidakIsMonotoneAndItsSmallestIsSidakOfTheSmallest) {
  random_stream stream(11, "holm", "sidak");
  for (int trial = 0; trial < 50; ++trial) {
    const std::size_t m = 1 + stream.below(30);
    std::vector<double> p(m);
    for (auto& v : p) v = std::pow(stream.uniform(), 3);  // some small ones
    const std::vector<double> adjusted = holm_sidak(p);
    ASSERT_EQ(adjusted.size(), m);
    for (std::size_t i = 0; i < m; ++i) {
      EXPECT_GE(adjusted[i], p[i] * (1 - 1e-15));  // Šidák with m = 1 is p up to rounding
      EXPECT_LE(adjusted[i], 1);
      for (std::size_t j = 0; j < m; ++j)
        if (p[i] <= p[j]) {
          EXPECT_LE(adjusted[i], adjusted[j]);  // the order of the p-values is kept
        }
    }
    const double smallest = *std::min_element(p.begin(), p.end());
    const double lowest = *std::min_element(adjusted.begin(), adjusted.end());
    EXPECT_EQ(lowest, sidak(smallest, static_cast<double>(m)));
    // The naive formula loses digits to cancellation when p is small.
    EXPECT_NEAR(lowest, 1 - std::pow(1 - smallest, static_cast<double>(m)), 1e-9 * lowest + 1e-15);
  }
}

// --- Kolmogorov–Smirnov ----------------------------------------------------------------------------

TEST(Probability, KolmogorovSmirnovStatisticOfAKnownSample) {
  // {0.1, 0.4, 0.7}: D⁺ = max(1/3 − 0.1, 2/3 − 0.4, 1 − 0.7) = 0.3, D⁻ = max(0.1, 0.4 − 1/3,
  // 0.7 − 2/3) = 0.1, in any input order.
  EXPECT_NEAR(kolmogorov_smirnov_uniform({0.7, 0.1, 0.4}).statistic, 0.3, 1e-15);
  EXPECT_NEAR(kolmogorov_smirnov_uniform({0.95}).statistic, 0.95, 1e-15);
  EXPECT_EQ(kolmogorov_smirnov_uniform({}).p, 1);
}

TEST(Probability, KolmogorovSmirnovAcceptsUniformAndRejectsSkewedSamples) {
  std::vector<double> stratified, skewed;
  for (int i = 0; i < 1000; ++i) {
    const double u = (i + 0.5) / 1000;
    stratified.push_back(u);
    skewed.push_back(u * u);
  }
  const combined_p uniform = kolmogorov_smirnov_uniform(stratified);
  EXPECT_NEAR(uniform.statistic, 0.0005, 1e-12);
  EXPECT_GT(uniform.p, 0.05);
  const combined_p rejected = kolmogorov_smirnov_uniform(skewed);
  EXPECT_NEAR(rejected.statistic, 0.25, 1e-3);  // max of u − u² at u = 1/2
  EXPECT_LT(rejected.p, 1e-6);
  // Random uniform draws pass.
  random_stream stream(5, "ks", "uniform");
  std::vector<double> draws(500);
  for (auto& v : draws) v = stream.uniform();
  EXPECT_GT(kolmogorov_smirnov_uniform(draws).p, 0.01);
}

}  // namespace
}  // namespace lineage
