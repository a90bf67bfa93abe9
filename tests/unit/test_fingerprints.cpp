// Shape-free fingerprints (shard/fingerprint, reduce/fingerprint_figures): the moments and leading
// singular values of real F32 tensors on disk against matrices whose spectrum is known (both exact
// Gram paths and block Lanczos, on a steep, a crowded and an exhausted spectrum), the depth detrending, and the shifted-layer test on
// fingerprints of a derivative and of an unrelated model.
#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/random_stream.hpp"
#include "plan/plan.hpp"
#include "reduce/fingerprint_figures.hpp"
#include "shard/block_compute.hpp"
#include "shard/fingerprint.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

// A rows × columns matrix with singular values `values` (the rest 0): a diagonal matrix with its
// rows and columns shuffled.
std::vector<float> known_spectrum(std::size_t rows, std::size_t columns, const std::vector<double>& values,
                                  std::uint64_t seed) {
  random_stream stream(seed, "test", "known spectrum");
  std::vector<std::uint32_t> row_order(rows), column_order(columns);
  random_permutation(stream, row_order);
  random_permutation(stream, column_order);
  std::vector<float> m(rows * columns, 0.0f);
  for (std::size_t k = 0; k < values.size(); ++k)
    m[row_order[k] * columns + column_order[k]] = static_cast<float>((k % 2 ? -1 : 1) * values[k]);
  return m;
}

tensor_fingerprint fingerprint_of(const std::vector<float>& values, std::vector<std::uint64_t> shape,
                                  const test::scratch_directory& dir) {
  const auto at = test::write_f32_safetensors(dir.path() / "m.safetensors", {{"m", shape, values}});
  block_reader reader({dir.path() / "m.safetensors"}, {dir.path() / "m.safetensors"});
  return fingerprint_tensor(reader, 0, {at[0], shape, "m"}, 7);
}

void expect_spectrum(const tensor_fingerprint& f, const std::vector<float>& m, const std::vector<double>& values,
                     double tolerance) {
  double squares = 0, sum = 0;
  for (const float v : m) {
    squares += static_cast<double>(v) * v;
    sum += v;
  }
  EXPECT_NEAR(f.frobenius, std::sqrt(squares), 1e-9 * std::sqrt(squares));
  const double n = static_cast<double>(m.size());
  EXPECT_NEAR(f.mean, sum / n, 1e-12);
  EXPECT_NEAR(f.sd, std::sqrt(squares / n - (sum / n) * (sum / n)), 1e-9);
  ASSERT_EQ(f.spectrum.size(), fingerprint_singular_values);
  for (std::size_t k = 0; k < fingerprint_singular_values; ++k)
    EXPECT_NEAR(f.spectrum[k] * f.frobenius, values[k], tolerance * values[k]) << "σ" << k + 1;
}

std::vector<double> descending(std::size_t count, double first, double ratio) {
  std::vector<double> v(count);
  // Stored as F32: the values themselves are rounded to float first.
  for (std::size_t k = 0; k < count; ++k)
    v[k] = static_cast<float>(first * std::pow(ratio, static_cast<double>(k)));
  return v;
}

TEST(Fingerprint, ExactSpectrumThroughEitherGramMatrix) {
  test::scratch_directory dir("fingerprint");
  const auto values = descending(30, 50, 0.9);
  const auto tall = known_spectrum(600, 40, values, 1);  // WᵀW, 40 × 40
  expect_spectrum(fingerprint_of(tall, {600, 40}, dir), tall, values, 1e-9);
  const auto wide = known_spectrum(40, 600, values, 2);  // W Wᵀ, 40 × 40
  expect_spectrum(fingerprint_of(wide, {40, 600}, dir), wide, values, 1e-9);
}

TEST(Fingerprint, BlockLanczosFindsASteepTopSpectrum) {
  test::scratch_directory dir("fingerprint");
  // Smaller dimension 640 > fingerprint_exact_width: estimated. σ₁…σ₂₀ fall by 0.8 each, the
  // rest are 0.1, so the Krylov basis converges fast.
  std::vector<double> values = descending(20, 100, 0.8);
  values.resize(640, static_cast<double>(0.1f));
  const auto m = known_spectrum(700, 640, values, 3);
  expect_spectrum(fingerprint_of(m, {700, 640}, dir), m, values, 1e-6);
}

// The singular values of a row-major float matrix, descending, from its FP64 Gram matrix.
std::vector<double> reference_singular_values(const std::vector<float>& m, std::size_t rows, std::size_t columns) {
  Eigen::MatrixXd w(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(columns));
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < columns; ++j) w(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = m[i * columns + j];
  const Eigen::MatrixXd gram = w.transpose() * w;
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(gram, Eigen::EigenvaluesOnly);
  std::vector<double> values;
  for (Eigen::Index k = gram.rows() - 1; k >= 0; --k) values.push_back(std::sqrt(std::max(0.0, solver.eigenvalues()(k))));
  return values;
}

TEST(Fingerprint, BlockLanczosOnACrowdedGaussianSpectrum) {
  // The hard case: i.i.d. N(0, 1) entries, whose top singular values lie within a few per cent of
  // each other. Ritz values are lower bounds and the top eight come within 3 %.
  test::scratch_directory dir("fingerprint");
  const std::size_t rows = 400, columns = 300;
  random_stream stream(5, "test", "gaussian");
  std::vector<float> m(rows * columns);
  for (float& v : m) v = static_cast<float>(stream.normal());
  const auto f = fingerprint_of(m, {rows, columns}, dir);
  const auto exact = reference_singular_values(m, rows, columns);
  ASSERT_EQ(f.spectrum.size(), fingerprint_singular_values);
  for (std::size_t k = 0; k < fingerprint_singular_values; ++k) {
    const double estimate = f.spectrum[k] * f.frobenius;
    EXPECT_LE(estimate, exact[k] * (1 + 1e-6)) << "σ" << k + 1;
    EXPECT_GE(estimate, exact[k] * 0.97) << "σ" << k + 1;
  }
}

TEST(Fingerprint, BlockLanczosStopsWhenTheKrylovSpaceIsExhausted) {
  // Rank 5 < one block of eight: the second block has no direction left; the five values are
  // found, the rest are 0.
  test::scratch_directory dir("fingerprint");
  std::vector<double> values{40, 30, 20, 10, 5};
  const auto m = known_spectrum(200, 300, values, 4);
  const auto f = fingerprint_of(m, {200, 300}, dir);
  ASSERT_EQ(f.spectrum.size(), fingerprint_singular_values);
  for (std::size_t k = 0; k < values.size(); ++k) EXPECT_NEAR(f.spectrum[k] * f.frobenius, values[k], 1e-5 * values[k]);
  for (std::size_t k = values.size(); k < fingerprint_singular_values; ++k) EXPECT_NEAR(f.spectrum[k], 0.0, 1e-6);
}

TEST(Fingerprint, VectorsHaveMomentsAndNoSpectrum) {
  test::scratch_directory dir("fingerprint");
  const std::vector<float> v{1.0f, 2.0f, 3.0f, 4.0f};
  const auto f = fingerprint_of(v, {4}, dir);
  EXPECT_DOUBLE_EQ(f.mean, 2.5);
  EXPECT_NEAR(f.sd, std::sqrt(1.25), 1e-12);
  EXPECT_TRUE(f.spectrum.empty());
}

TEST(Fingerprint, NonFiniteValuesMarkTheFingerprint) {
  test::scratch_directory dir("fingerprint");
  std::vector<float> m(64, 1.0f);
  m[17] = NAN;
  EXPECT_FALSE(fingerprint_of(m, {8, 8}, dir).finite);
}

TEST(Fingerprint, DetrendingRemovesQuadraticDepthTrends) {
  std::vector<double> t(12), quadratic(12), noisy(12);
  random_stream stream(5, "test", "detrend");
  for (std::size_t i = 0; i < t.size(); ++i) {
    t[i] = static_cast<double>(i);
    quadratic[i] = 3 - 0.5 * t[i] + 0.25 * t[i] * t[i];
    noisy[i] = quadratic[i] + stream.normal();
  }
  EXPECT_TRUE(detrended(quadratic, t).empty());
  const auto r = detrended(noisy, t);
  ASSERT_EQ(r.size(), t.size());
  double sum = 0, tsum = 0, t2sum = 0, squares = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    sum += r[i];
    tsum += r[i] * t[i];
    t2sum += r[i] * t[i] * t[i];
    squares += r[i] * r[i];
  }
  EXPECT_NEAR(sum, 0, 1e-9);
  EXPECT_NEAR(tsum, 0, 1e-8);
  EXPECT_NEAR(t2sum, 0, 1e-7);
  EXPECT_NEAR(squares / static_cast<double>(r.size()), 1, 1e-12);
  EXPECT_TRUE(detrended(std::vector<double>(5, 1.0), std::vector<double>{0, 1, 2, 3, 4}).empty());  // too few
}

// A plan of one role over `layers` layers with fingerprints: A's drawn at random; B's are A's plus
// noise (derived) or drawn on their own (unrelated), both on a common depth trend and offset.
std::pair<work_plan, std::vector<fingerprint_result>> fingerprinted(std::size_t layers, bool derived,
                                                                    std::uint64_t seed) {
  work_plan plan;
  std::vector<fingerprint_result> results;
  random_stream stream(seed, "test", "fingerprints");
  for (std::size_t l = 0; l < layers; ++l) {
    fingerprint_request request;
    request.layer = static_cast<std::int32_t>(l);
    request.role = "mlp.up_proj.weight";
    request.a.shape = {64, 32};
    request.b.shape = {56, 32};
    plan.fingerprints.push_back(request);
    fingerprint_result r;
    r.request = static_cast<std::uint32_t>(l);
    const double trend = 0.02 * static_cast<double>(l);
    r.a.sd = std::exp(trend + 0.01 * stream.normal());
    r.a.mean = 0.001 * stream.normal();
    for (std::size_t k = 0; k < fingerprint_singular_values; ++k)
      r.a.spectrum.push_back(std::exp(-0.1 * static_cast<double>(k) - trend + 0.01 * stream.normal()));
    r.b = r.a;
    const double own = derived ? 0.3 : 3.0;  // B's own variation, relative to what it shares with A
    r.b.sd = std::exp(std::log(r.a.sd) * (derived ? 1 : 0) + trend + 0.5 + 0.01 * own * stream.normal());
    r.b.mean = (derived ? r.a.mean : 0) + 0.001 * own * stream.normal();
    for (std::size_t k = 0; k < fingerprint_singular_values; ++k)
      r.b.spectrum[k] = std::exp((derived ? std::log(r.a.spectrum[k]) : -0.1 * static_cast<double>(k) - trend) - 0.2 +
                                 0.01 * own * stream.normal());
    results.push_back(r);
  }
  return {plan, results};
}

TEST(FingerprintTest, ADerivativeBeatsEveryShiftedLayer) {
  const auto [plan, results] = fingerprinted(24, true, 1);
  const auto figures = derive_fingerprints(plan, results, 9);
  const auto& test = figures.test;
  ASSERT_TRUE(test.available) << test.reason;
  EXPECT_EQ(figures.pairs.size(), 24u);
  EXPECT_EQ(test.layers.size(), 24u);
  EXPECT_EQ(test.null.size(), 23u);
  EXPECT_EQ(test.series, 2 + fingerprint_singular_values);
  EXPECT_GT(test.statistic, 0.8);
  EXPECT_GT(test.statistic, *std::max_element(test.null.begin(), test.null.end()));
  EXPECT_LE(test.p_value, 1.0 / 24);
  EXPECT_GT(test.z, 4);
}

TEST(FingerprintTest, UnrelatedFingerprintsGiveAUniformP) {
  // Over many unrelated pairs the randomized p is uniform: its mean is 1/2 and P(p ≤ 0.2) ≈ 0.2.
  double total = 0;
  int small = 0;
  const int pairs = 400;
  for (int s = 0; s < pairs; ++s) {
    const auto [plan, results] = fingerprinted(10, false, 100 + static_cast<std::uint64_t>(s));
    const auto test = derive_fingerprints(plan, results, static_cast<std::uint64_t>(s)).test;
    ASSERT_TRUE(test.available) << test.reason;
    total += test.p_value;
    small += test.p_value <= 0.2;
  }
  EXPECT_NEAR(total / pairs, 0.5, 0.05);
  EXPECT_NEAR(static_cast<double>(small) / pairs, 0.2, 0.06);
}

TEST(FingerprintTest, TooFewLayersLeaveTheTestOut) {
  const auto [plan, results] = fingerprinted(4, true, 2);
  const auto figures = derive_fingerprints(plan, results, 9);
  EXPECT_FALSE(figures.test.available);
  EXPECT_NE(figures.test.reason.find("needs 6"), std::string::npos) << figures.test.reason;
}

}  // namespace
}  // namespace lineage
