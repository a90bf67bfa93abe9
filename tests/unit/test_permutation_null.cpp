// The permutation null (shard/permutation_null) and the figures drawn from it
// (reduce/null_figures): T_π = Σᵢ⟨aᵢ, b_π(i)⟩ against a straightforward recomputation that
// regenerates the same permutations, non-finite input, determinism, uniform p-values for unrelated
// vectors (also with a large common mean, where raw cosine is near 1), and the statistics, p-values
// and closed form that null_figures derives from the samples.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "reduce/null_figures.hpp"
#include "reduce/probability.hpp"
#include "reduce/tensor_stats.hpp"
#include "shard/kernel.hpp"
#include "shard/permutation_null.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using test::typed_vector;

std::span<const std::byte> bytes_of(const typed_vector& v) {
  return {v.data(), v.size() * dtype_size(v.type())};
}

null_request request_for(const typed_vector& a, const typed_vector& b, std::uint64_t rows, std::uint32_t k,
                         std::uint64_t seed) {
  null_request request;
  request.pair = 4;
  request.a.type = a.type();
  request.b.type = b.type();
  request.rows = rows;
  request.row_length = a.size() / rows;
  request.permutations = k;
  request.seed = seed;
  return request;
}

// The K permutations of a request, drawn in stream order one after another (the product draws
// them in batches of 8 from the same stream, which must not change them), and the uniform in
// (0, 1] drawn after them for the randomized p-value.
struct regenerated {
  std::vector<std::vector<std::uint32_t>> permutations;
  double randomizer = 0;
};

regenerated regenerate(const null_request& request) {
  random_stream stream(request.seed, "permutation null", "rows");
  regenerated out;
  out.permutations.assign(request.permutations, std::vector<std::uint32_t>(request.rows));
  for (auto& permutation : out.permutations) random_permutation(stream, permutation);
  out.randomizer = 1 - stream.uniform();
  return out;
}

// T for one permutation (nullptr: the identity), from the independent decoder: row i of A against
// row π(i) of B, rows in order, each row's products in long double.
long double reference_t(const typed_vector& a, const typed_vector& b, const null_request& request,
                        const std::vector<std::uint32_t>* permutation) {
  const std::size_t length = request.row_length;
  long double total = 0;
  for (std::size_t i = 0; i < request.rows; ++i) {
    const std::size_t j = permutation ? (*permutation)[i] : i;
    for (std::size_t c = 0; c < length; ++c)
      total += static_cast<long double>(test::reference_value(a, i * length + c)) *
               test::reference_value(b, j * length + c);
  }
  return total;
}

// Σ|a||b| over the rows a permutation pairs: the scale of T's rounding.
long double magnitude(const typed_vector& a, const typed_vector& b, const null_request& request,
                      const std::vector<std::uint32_t>* permutation) {
  const std::size_t length = request.row_length;
  long double total = 0;
  for (std::size_t i = 0; i < request.rows; ++i) {
    const std::size_t j = permutation ? (*permutation)[i] : i;
    for (std::size_t c = 0; c < length; ++c)
      total += std::fabs(static_cast<long double>(test::reference_value(a, i * length + c)) *
                         test::reference_value(b, j * length + c));
  }
  return total;
}

typed_vector random_values(dtype type, std::size_t n, double mean, double sd, std::uint64_t seed) {
  return test::encode(type, test::normal_values(n, mean, sd, seed));
}

// Multiples of 1/8 in [−4, 4]: products and row sums are exact in single precision, so every
// summation order gives the same T.
typed_vector exact_values(dtype type, std::size_t n, std::uint64_t seed) {
  random_stream stream(seed, "test", "exact values");
  std::vector<double> values(n);
  for (auto& v : values) v = (static_cast<double>(stream.below(65)) - 32) / 8;
  return test::encode(type, values);
}

// Compares the product's samples with the reference: `exact` asks for equal values, otherwise a
// relative tolerance of Σ|a||b| (single-precision partial sums of at most a row).
void expect_matches_reference(const typed_vector& a, const typed_vector& b, const null_request& request,
                              bool exact) {
  const null_samples samples = compute_permutation_null(request, bytes_of(a), bytes_of(b));
  ASSERT_TRUE(samples.usable) << samples.reason;
  EXPECT_EQ(samples.pair, request.pair);
  EXPECT_EQ(samples.reason, "");
  ASSERT_EQ(samples.t.size(), request.permutations);
  const regenerated drawn = regenerate(request);
  const auto& permutations = drawn.permutations;
  EXPECT_EQ(samples.randomizer, drawn.randomizer);
  const auto check = [&](double got, const std::vector<std::uint32_t>* permutation, const char* what) {
    const long double expected = reference_t(a, b, request, permutation);
    if (exact) {
      EXPECT_EQ(got, static_cast<double>(expected)) << what;
    } else {
      EXPECT_NEAR(got, static_cast<double>(expected),
                  static_cast<double>(1e-6L * magnitude(a, b, request, permutation)))
          << what;
    }
  };
  check(samples.observed, nullptr, "observed");
  for (std::size_t k = 0; k < permutations.size(); ++k) {
    SCOPED_TRACE(testing::Message() << "permutation " << k);
    check(samples.t[k], &permutations[k], "sample");
  }
  // The samples are not all the same value: the permutations differ.
  EXPECT_NE(*std::min_element(samples.t.begin(), samples.t.end()),
            *std::max_element(samples.t.begin(), samples.t.end()));
}

// --- T against the reference ------------------------------------------------------------------------

TEST(PermutationNull, VectorSamplesAreExactDoubleSumsOfTheRegeneratedPermutations) {
  // Vectors: each product in double (exact for decoded floats), summed in element order.
  for (const dtype type_a : {dtype::bf16, dtype::f32}) {
    for (const dtype type_b : {dtype::bf16, dtype::f32}) {
      SCOPED_TRACE(testing::Message() << dtype_name(type_a) << " vs " << dtype_name(type_b));
      const typed_vector a = random_values(type_a, 97, 1.0, 0.1, 1);
      const typed_vector b = random_values(type_b, 97, 1.0, 0.1, 2);
      const null_request request = request_for(a, b, 97, 21, 1234);  // 2 full batches and 5
      const null_samples samples = compute_permutation_null(request, bytes_of(a), bytes_of(b));
      ASSERT_TRUE(samples.usable);
      const regenerated drawn = regenerate(request);
      const auto& permutations = drawn.permutations;
      EXPECT_EQ(samples.randomizer, drawn.randomizer);
      EXPECT_GT(samples.randomizer, 0);
      EXPECT_LE(samples.randomizer, 1);
      const auto straightforward = [&](const std::vector<std::uint32_t>* permutation) {
        double total = 0;
        for (std::size_t i = 0; i < 97; ++i)
          total += test::reference_value(a, i) * test::reference_value(b, permutation ? (*permutation)[i] : i);
        return total;
      };
      EXPECT_EQ(std::bit_cast<std::uint64_t>(samples.observed),
                std::bit_cast<std::uint64_t>(straightforward(nullptr)));
      ASSERT_EQ(samples.t.size(), 21U);
      for (std::size_t k = 0; k < 21; ++k)
        EXPECT_EQ(std::bit_cast<std::uint64_t>(samples.t[k]),
                  std::bit_cast<std::uint64_t>(straightforward(&permutations[k])))
            << "permutation " << k;
    }
  }
}

TEST(PermutationNull, MatrixSamplesPermuteRowsOfB) {
  // 13 rows of 77: the row product's 32-wide loop, its 8-wide loop and a scalar tail.
  for (const dtype type : {dtype::bf16, dtype::f32}) {
    SCOPED_TRACE(dtype_name(type));
    const typed_vector a = random_values(type, 13 * 77, 0.0, 0.02, 3);
    const typed_vector b = random_values(dtype::f32, 13 * 77, 0.0, 0.02, 4);
    expect_matches_reference(a, b, request_for(a, b, 13, 19, 99), false);
  }
}

TEST(PermutationNull, MatrixSamplesAreExactWhenEveryPartialSumIs) {
  for (const dtype type : {dtype::bf16, dtype::f32}) {
    SCOPED_TRACE(dtype_name(type));
    const typed_vector a = exact_values(type, 9 * 37, 5);
    const typed_vector b = exact_values(dtype::bf16, 9 * 37, 6);
    expect_matches_reference(a, b, request_for(a, b, 9, 17, 7), true);
    // A vector of the same values (elements permuted).
    expect_matches_reference(a, b, request_for(a, b, 9 * 37, 17, 7), true);
  }
}

TEST(PermutationNull, IdenticalSidesHaveTheLargestObservedValue) {
  // T_identity = Σ‖aᵢ‖² ≥ Σ⟨aᵢ, a_π(i)⟩ by Cauchy–Schwarz: nothing beats the identity.
  const typed_vector a = random_values(dtype::bf16, 20 * 16, 0.0, 1.0, 8);
  const null_samples samples = compute_permutation_null(request_for(a, a, 20, 50, 1), bytes_of(a), bytes_of(a));
  ASSERT_TRUE(samples.usable);
  for (const double t : samples.t) EXPECT_LE(t, samples.observed);
}

// --- input the null cannot use -------------------------------------------------------------------

TEST(PermutationNull, NonFiniteValuesMakeTheNullUnusableWithAReason) {
  struct injection {
    dtype type;
    bool side_b;
    bool infinity;
  };
  for (const injection inject : {injection{dtype::bf16, false, false}, injection{dtype::f32, true, true},
                                 injection{dtype::f64, false, true}, injection{dtype::f16, true, false}}) {
    SCOPED_TRACE(testing::Message() << dtype_name(inject.type) << (inject.side_b ? " in b" : " in a")
                                    << (inject.infinity ? ", inf" : ", nan"));
    typed_vector a = random_values(inject.type, 6 * 10, 0.0, 1.0, 9);
    typed_vector b = random_values(inject.type, 6 * 10, 0.0, 1.0, 10);
    typed_vector& target = inject.side_b ? b : a;
    target.set_code(47, inject.infinity ? test::inf_code(inject.type, true) : test::nan_code(inject.type));
    for (const std::uint64_t rows : {6ull, 60ull}) {  // matrix and vector
      const null_samples samples =
          compute_permutation_null(request_for(a, b, rows, 10, 3), bytes_of(a), bytes_of(b));
      EXPECT_FALSE(samples.usable);
      EXPECT_EQ(samples.reason, "non-finite values");
      EXPECT_TRUE(samples.t.empty());
      EXPECT_EQ(samples.pair, 4U);
    }
  }
}

TEST(PermutationNull, FewerThanTwoUnitsCannotBePermuted) {
  const typed_vector a = random_values(dtype::f32, 8, 0.0, 1.0, 11);
  const null_samples samples = compute_permutation_null(request_for(a, a, 1, 10, 3), bytes_of(a), bytes_of(a));
  EXPECT_FALSE(samples.usable);
  EXPECT_EQ(samples.reason, "fewer than two units to permute");
}

// --- determinism and calibration ---------------------------------------------------------------

TEST(PermutationNull, SameRequestSameBitsOtherSeedOtherSamples) {
  const typed_vector a = random_values(dtype::bf16, 30 * 24, 0.0, 1.0, 12);
  const typed_vector b = random_values(dtype::bf16, 30 * 24, 0.0, 1.0, 13);
  const null_request request = request_for(a, b, 30, 40, 555);
  const null_samples first = compute_permutation_null(request, bytes_of(a), bytes_of(b));
  const null_samples second = compute_permutation_null(request, bytes_of(a), bytes_of(b));
  ASSERT_EQ(first.t.size(), second.t.size());
  EXPECT_EQ(std::bit_cast<std::uint64_t>(first.observed), std::bit_cast<std::uint64_t>(second.observed));
  for (std::size_t k = 0; k < first.t.size(); ++k)
    EXPECT_EQ(std::bit_cast<std::uint64_t>(first.t[k]), std::bit_cast<std::uint64_t>(second.t[k]));
  EXPECT_EQ(first.randomizer, second.randomizer);
  null_request other = request;
  other.seed = 556;
  const null_samples third = compute_permutation_null(other, bytes_of(a), bytes_of(b));
  EXPECT_EQ(third.observed, first.observed);
  std::size_t same = 0;
  for (std::size_t k = 0; k < first.t.size(); ++k) same += third.t[k] == first.t[k];
  EXPECT_LT(same, 3U);
  EXPECT_NE(third.randomizer, first.randomizer);
  // A longer run starts with the shorter one's samples.
  null_request longer = request;
  longer.permutations = 61;
  const null_samples extended = compute_permutation_null(longer, bytes_of(a), bytes_of(b));
  for (std::size_t k = 0; k < first.t.size(); ++k) EXPECT_EQ(extended.t[k], first.t[k]);
}

TEST(PermutationNull, PValuesOfUnrelatedVectorsAreUniform) {
  // Half of the pairs look like norm weights (mean 1, sd 0.1: raw cosine ≈ 0.99), half like
  // centred weights; the permutation p-value must not care.
  constexpr int pairs = 300;
  constexpr std::size_t n = 64;
  double total = 0;
  int small = 0;
  std::vector<double> p_values;
  for (int i = 0; i < pairs; ++i) {
    const double mean = i % 2 ? 1.0 : 0.0, sd = i % 2 ? 0.1 : 1.0;
    const typed_vector a = random_values(dtype::f32, n, mean, sd, 1000 + 2 * i);
    const typed_vector b = random_values(dtype::f32, n, mean, sd, 1001 + 2 * i);
    const null_samples samples =
        compute_permutation_null(request_for(a, b, n, 199, 77 + i), bytes_of(a), bytes_of(b));
    const pair_moments moments = pair_moments::from_block(compute_block_sums(a.run(), b.run(), n));
    const null_figures figures =
        derive_null_figures(samples, moments, derive_similarity(moments).pearson, 0.01, false);
    ASSERT_TRUE(figures.available);
    total += figures.p_value;
    small += figures.p_value <= 0.05;
    p_values.push_back(figures.p_value);
  }
  EXPECT_NEAR(total / pairs, 0.5, 0.05);
  EXPECT_GE(small, 0.02 * pairs);
  EXPECT_LE(small, 0.09 * pairs);
  EXPECT_GT(kolmogorov_smirnov_uniform(p_values).p, 0.001);
}

// --- null_figures ---------------------------------------------------------------------------------

struct figures_case {
  typed_vector a, b;
  pair_moments moments;
  null_samples samples;
  null_figures figures;
};

figures_case figures_for(std::size_t rows, std::size_t length, double mean, std::uint64_t seed,
                         double alpha = 0.01) {
  figures_case c;
  const std::size_t n = rows * length;
  c.a = random_values(dtype::f32, n, mean, 0.5, seed);
  // B = A + noise: clearly related.
  std::vector<double> values = test::normal_values(n, 0.0, 1.0, seed + 1);
  for (std::size_t i = 0; i < n; ++i) values[i] = test::reference_value(c.a, i) + values[i];
  c.b = test::encode(dtype::f32, values);
  c.moments = pair_moments::from_block(compute_block_sums(c.a.run(), c.b.run(), n));
  c.samples = compute_permutation_null(request_for(c.a, c.b, rows, 99, seed), bytes_of(c.a), bytes_of(c.b));
  c.figures = derive_null_figures(c.samples, c.moments, derive_similarity(c.moments).pearson, alpha, length > 1);
  return c;
}

TEST(NullFigures, StatisticSamplesAreTheMonotoneImagesOfT) {
  const figures_case c = figures_for(40, 12, 0.7, 21);
  const null_figures& f = c.figures;
  ASSERT_TRUE(f.available);
  EXPECT_EQ(f.unit, "rows");
  EXPECT_EQ(f.permutations, 99U);
  ASSERT_EQ(f.cosine_samples.size(), 99U);
  ASSERT_EQ(f.pearson_samples.size(), 99U);
  ASSERT_EQ(f.rel_l2_samples.size(), 99U);
  const pair_moments& m = c.moments;
  const double n = static_cast<double>(m.count);
  for (std::size_t k = 0; k < 99; ++k) {
    const double t = c.samples.t[k];
    EXPECT_NEAR(f.cosine_samples[k], t / std::sqrt(m.raw_aa * m.raw_bb), 1e-12);
    EXPECT_NEAR(f.pearson_samples[k], (t - n * m.mean_a * m.mean_b) / std::sqrt(m.m2_a * m.m2_b), 1e-12);
    EXPECT_NEAR(f.rel_l2_samples[k], std::sqrt(m.raw_aa + m.raw_bb - 2 * t) / std::sqrt(m.raw_aa), 1e-12);
    // Cosine and Pearson increase with T, relative L2 decreases.
    for (std::size_t j = 0; j < k; ++j) {
      if (c.samples.t[j] < t) {
        EXPECT_LT(f.cosine_samples[j], f.cosine_samples[k]);
        EXPECT_LT(f.pearson_samples[j], f.pearson_samples[k]);
        EXPECT_GT(f.rel_l2_samples[j], f.rel_l2_samples[k]);
      }
    }
  }
  // T of the identity gives the pair's own figures (up to the kernel's single-precision partials).
  const similarity s = derive_similarity(m);
  EXPECT_NEAR(c.samples.observed / std::sqrt(m.raw_aa * m.raw_bb), s.cosine, 1e-6);
  EXPECT_NEAR((c.samples.observed - n * m.mean_a * m.mean_b) / std::sqrt(m.m2_a * m.m2_b), s.pearson, 1e-6);
  // Summaries of the samples.
  std::vector<double> sorted = f.cosine_samples;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(f.cosine.min, sorted.front());
  EXPECT_EQ(f.cosine.max, sorted.back());
  EXPECT_EQ(f.cosine.q50, sorted[49]);
  EXPECT_LE(f.cosine.q01, f.cosine.q50);
  EXPECT_LE(f.cosine.q50, f.cosine.q99);
  double sum = 0;
  for (const double v : f.cosine_samples) sum += v;
  EXPECT_NEAR(f.cosine.mean, sum / 99, 1e-14);
  // Related sides: beyond every sample, p from the normal tail of z beyond the largest sample.
  EXPECT_TRUE(f.beyond_all);
  EXPECT_GT(f.z, 5);
  EXPECT_EQ(f.p_tail, normal_upper_tail(f.z));
  EXPECT_NEAR(f.p_permutation, 1.0 / 100, 1e-15);
  EXPECT_LT(f.p_value, f.p_permutation);
}

// Hand-made samples on moments of any pair.
null_figures figures_of(double observed, std::vector<double> t, const pair_moments& m, double randomizer = 0.25) {
  null_samples samples;
  samples.usable = true;
  samples.observed = observed;
  samples.t = std::move(t);
  samples.randomizer = randomizer;
  return derive_null_figures(samples, m, 0.0, 0.01, false);
}

TEST(NullFigures, PermutationPValuesCountTies) {
  const pair_moments m = figures_for(10, 1, 0.0, 31).moments;
  const std::vector<double> t = {1, 2, 2, 3, 0};  // mean 1.6, sd √1.3
  // Observed 2: one sample above, two equal. Classic: (1 + 3) / (1 + 5); randomized:
  // (1 + U·(1 + 2)) / (1 + 5).
  const null_figures tied = figures_of(2, t, m, 0.25);
  EXPECT_EQ(tied.unit, "elements");
  EXPECT_DOUBLE_EQ(tied.p_permutation, 4.0 / 6);
  EXPECT_DOUBLE_EQ(tied.p_value, (1 + 0.25 * 3) / 6);
  EXPECT_FALSE(tied.beyond_all);
  // U = 1 gives back the classic p-value.
  EXPECT_DOUBLE_EQ(figures_of(2, t, m, 1.0).p_value, 4.0 / 6);
  // z on T: (2 − mean) / sd with the n − 1 sample sd.
  EXPECT_NEAR(tied.z, (2 - 1.6) / std::sqrt(1.3), 1e-12);
  EXPECT_EQ(tied.p_tail, normal_upper_tail(tied.z));
  // Equal to the largest sample: not beyond all.
  const null_figures at_max = figures_of(3, t, m, 0.5);
  EXPECT_FALSE(at_max.beyond_all);
  EXPECT_DOUBLE_EQ(at_max.p_permutation, 2.0 / 6);
  EXPECT_DOUBLE_EQ(at_max.p_value, 0.5 * 2 / 6);
  // Below every sample.
  const null_figures below = figures_of(-5, t, m, 0.5);
  EXPECT_DOUBLE_EQ(below.p_permutation, 1.0);
  EXPECT_DOUBLE_EQ(below.p_value, 5.5 / 6);
  // All samples equal (sd 0): no z, the randomized p stands even beyond all.
  const null_figures flat = figures_of(10, {1, 1, 1}, m, 0.5);
  EXPECT_TRUE(flat.beyond_all);
  EXPECT_EQ(flat.z, 0);
  EXPECT_DOUBLE_EQ(flat.p_permutation, 1.0 / 4);
  EXPECT_DOUBLE_EQ(flat.p_value, 0.5 / 4);
}

TEST(NullFigures, BeyondAllSamplesTheNormalTailResolvesHowFar) {
  const pair_moments m = figures_for(10, 1, 0.0, 31).moments;
  const std::vector<double> t = {1, 2, 2, 3, 0};
  const double sd = std::sqrt(1.3);
  const null_figures beyond = figures_of(10, t, m);
  EXPECT_TRUE(beyond.beyond_all);
  EXPECT_DOUBLE_EQ(beyond.p_permutation, 1.0 / 6);
  EXPECT_NEAR(beyond.z, (10 - 1.6) / sd, 1e-12);
  EXPECT_EQ(beyond.p_tail, normal_upper_tail(beyond.z));
  // (1 / (1 + K)) · P(Z > z) / P(Z > z_max): continuous with the permutation p at the largest
  // sample, smaller the farther beyond.
  const double at_largest = normal_upper_tail((3 - 1.6) / sd);
  EXPECT_NEAR(beyond.p_value / (beyond.p_tail / at_largest / 6), 1.0, 1e-12);
  EXPECT_LT(beyond.p_value, 1.0 / 6);
  EXPECT_NEAR(figures_of(3 + 1e-9, t, m).p_value, 1.0 / 6, 1e-8);
  double previous = 1.0 / 6;
  for (const double observed : {3.5, 5.0, 8.0, 20.0}) {
    const double p = figures_of(observed, t, m).p_value;
    EXPECT_LT(p, previous) << observed;
    previous = p;
  }
  // The randomizer plays no part beyond all samples.
  EXPECT_EQ(figures_of(10, t, m, 0.9).p_value, beyond.p_value);
}

TEST(NullFigures, ClosedFormIsRootNTimesPearson) {
  const figures_case c = figures_for(300, 1, 1.0, 41);
  const null_figures& f = c.figures;
  const double n = static_cast<double>(c.moments.count);
  const double r = derive_similarity(c.moments).pearson;
  EXPECT_EQ(f.closed_z, std::sqrt(n) * r);
  EXPECT_EQ(f.closed_p, normal_upper_tail(f.closed_z));
  EXPECT_NEAR(f.null_sd_ratio, f.pearson.sd * std::sqrt(n), 1e-15);
  // Independent elements: the empirical null of Pearson has sd ≈ 1/√n.
  EXPECT_NEAR(f.null_sd_ratio, 1.0, 0.25);
  // Strongly related: both nulls call it significant.
  EXPECT_FALSE(f.closed_form_disagrees);
  // A Pearson the closed form calls significant while the permutation null does not.
  null_samples unremarkable = c.samples;
  std::vector<double> sorted = c.samples.t;
  std::sort(sorted.begin(), sorted.end());
  unremarkable.observed = sorted[sorted.size() / 2];  // the null's median: p ≈ 0.5
  const null_figures d = derive_null_figures(unremarkable, c.moments, 0.3, 0.01, false);
  EXPECT_EQ(d.closed_z, std::sqrt(n) * 0.3);
  EXPECT_LT(d.closed_p, 0.01);
  EXPECT_GT(d.p_value, 0.01);
  EXPECT_TRUE(d.closed_form_disagrees);
}

TEST(NullFigures, UnusableSamplesKeepTheirReasonAndTheClosedForm) {
  const figures_case c = figures_for(50, 1, 0.0, 51);
  null_samples unusable;
  unusable.reason = "non-finite values";
  const double r = derive_similarity(c.moments).pearson;
  const null_figures f = derive_null_figures(unusable, c.moments, r, 0.01, false);
  EXPECT_FALSE(f.available);
  EXPECT_EQ(f.reason, "non-finite values");
  EXPECT_EQ(f.p_value, 1);
  EXPECT_TRUE(f.cosine_samples.empty());
  EXPECT_EQ(f.closed_z, std::sqrt(50.0) * r);
  EXPECT_FALSE(f.closed_form_disagrees);
  null_samples none;
  none.usable = true;
  const null_figures empty = derive_null_figures(none, c.moments, r, 0.01, true);
  EXPECT_FALSE(empty.available);
  EXPECT_EQ(empty.reason, "no permutations drawn");
  EXPECT_EQ(empty.unit, "rows");
}

}  // namespace
}  // namespace lineage

namespace lineage {
namespace {

// The row-direction statistic: B's rows rescaled (any positive factors), or a norm weight moved
// into the columns of the matrix that reads it, leave D at its maximum (one per row), while T
// and Pearson move; without a fold D is the sum of the rows' cosines.
TEST(RowDirections, SeeThroughRowAndNormRescaling) {
  random_stream stream(11, "test", "directions");
  const std::size_t rows = 40, length = 24;
  std::vector<double> a(rows * length), rescaled(rows * length), folded_b(rows * length);
  std::vector<float> norm_a(length), norm_b(length);
  for (std::size_t j = 0; j < length; ++j) {
    norm_a[j] = static_cast<float>(std::exp(0.2 * stream.normal()));
    const double s = std::exp(0.8 * stream.normal());  // the factor moved from the norm into the columns
    norm_b[j] = static_cast<float>(norm_a[j] * s);
    for (std::size_t i = 0; i < rows; ++i) a[i * length + j] = stream.normal();
    for (std::size_t i = 0; i < rows; ++i) folded_b[i * length + j] = a[i * length + j] / s;
  }
  for (std::size_t i = 0; i < rows; ++i) {
    const double c = std::exp(stream.normal());
    for (std::size_t j = 0; j < length; ++j) rescaled[i * length + j] = c * a[i * length + j];
  }
  using test::encode;
  using test::typed_vector;
  const typed_vector ta = encode(dtype::f32, a), tr = encode(dtype::f32, rescaled), tf = encode(dtype::f32, folded_b);
  null_request request = request_for(ta, tr, rows, 30, 5);
  request.directions = true;

  const null_samples by_rows = compute_permutation_null(request, bytes_of(ta), bytes_of(tr));
  ASSERT_TRUE(by_rows.usable);
  EXPECT_TRUE(by_rows.directions);
  EXPECT_FALSE(by_rows.folded);
  EXPECT_NEAR(by_rows.direction_observed, static_cast<double>(rows), 1e-5);
  ASSERT_EQ(by_rows.direction_t.size(), 30u);
  for (const double d : by_rows.direction_t) EXPECT_LT(d, by_rows.direction_observed);

  const null_samples by_norm = compute_permutation_null(request, bytes_of(ta), bytes_of(tf), norm_a, norm_b);
  ASSERT_TRUE(by_norm.usable);
  EXPECT_TRUE(by_norm.folded);
  EXPECT_NEAR(by_norm.direction_observed, static_cast<double>(rows), 1e-4);
  // Unfolded, the same pair is far from its maximum: the columns were rescaled.
  const null_samples unfolded = compute_permutation_null(request, bytes_of(ta), bytes_of(tf));
  EXPECT_LT(unfolded.direction_observed, 0.9 * static_cast<double>(rows));
  // T and its permutations do not depend on the direction statistic.
  request.directions = false;
  const null_samples plain = compute_permutation_null(request, bytes_of(ta), bytes_of(tf));
  EXPECT_EQ(plain.t, by_norm.t);
  EXPECT_EQ(plain.observed, by_norm.observed);
  EXPECT_FALSE(plain.directions);
  EXPECT_TRUE(plain.direction_t.empty());
  // Norm weights of the wrong length are a planning error.
  request.directions = true;
  norm_b.pop_back();
  EXPECT_THROW((void)compute_permutation_null(request, bytes_of(ta), bytes_of(tf), norm_a, norm_b), internal_error);
}

}  // namespace
}  // namespace lineage
