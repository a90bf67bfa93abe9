// Bitwise equality in the common dtype (exact conversions, signed zeros, NaN payloads, one ulp),
// the exact figures of identical and constant inputs, and the similarity matrices' dot products:
// every runnable kernel variant gives the same bits.
#include <gtest/gtest.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "reduce/tensor_stats.hpp"
#include "shard/block_stats.hpp"
#include "shard/kernel.hpp"
#include "kernel_test_support.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using namespace kernel_test;  // NOLINT: the variants and the test data

// --- bitwise equality in the common dtype -------------------------------------------------------

// `narrow` converted exactly to `wide`: every pair is bitwise equal in the common dtype (= wide),
// NaN and infinities included.
void expect_all_equal_after_exact_conversion(dtype narrow, dtype wide) {
  ASSERT_TRUE(widens_exactly(narrow, wide));
  ASSERT_EQ(common_dtype(narrow, wide), wide);
  constexpr std::size_t n = 10007;
  std::mt19937_64 engine(77);
  typed_vector a(narrow, n), b(wide, n);
  std::normal_distribution<double> normal(0.0, 2.0);
  for (std::size_t i = 0; i < n; ++i) {
    if (is_f8(narrow))
      a.set_code(i, random_finite_f8(narrow, engine));
    else
      a.set_value(i, normal(engine));
    if (i % 1001 == 5) a.set_code(i, test::nan_code(narrow, i % 2 == 0));
    if (i % 1009 == 7 && test::has_infinity(narrow)) a.set_code(i, test::inf_code(narrow, i % 2 == 0));
    if (i % 503 == 11) a.set_value(i, i % 2 == 0 ? 0.0 : -0.0);
    const double v = test::reference_value(a, i);
    if (std::isnan(v))
      b.set_code(i, test::nan_code(wide, std::signbit(v)));
    else
      b.set_value(i, v);
  }
  for (const auto& variant : variants()) {
    SCOPED_TRACE(testing::Message() << variant.name << ": " << dtype_name(narrow) << " vs "
                                    << dtype_name(wide));
    const kernel_sums s = variant.compute(a.run(), b.run(), n);
    EXPECT_EQ(s.bitwise_equal, n);
    const kernel_sums t = variant.compute(b.run(), a.run(), n);
    EXPECT_EQ(t.bitwise_equal, n);
  }
}

TEST(Kernel, BitwiseEqualAfterExactConversion) {
  expect_all_equal_after_exact_conversion(dtype::bf16, dtype::f32);
  expect_all_equal_after_exact_conversion(dtype::f16, dtype::f32);
  expect_all_equal_after_exact_conversion(dtype::f32, dtype::f64);
  expect_all_equal_after_exact_conversion(dtype::bf16, dtype::f64);
  expect_all_equal_after_exact_conversion(dtype::f8_e4m3, dtype::f16);
  expect_all_equal_after_exact_conversion(dtype::f8_e4m3, dtype::bf16);
  expect_all_equal_after_exact_conversion(dtype::f8_e5m2, dtype::f16);
  expect_all_equal_after_exact_conversion(dtype::f8_e5m2, dtype::f32);
}

TEST(Kernel, SignedZerosAreNotBitwiseEqual) {
  for (const dtype t : all_dtypes) {
    constexpr std::size_t n = 2051;  // a full chunk plus a tail
    typed_vector a(t, n), b(t, n);
    for (std::size_t i = 0; i < n; ++i) {
      a.set_value(i, i % 2 == 0 ? 0.0 : -0.0);
      b.set_value(i, i % 2 == 0 ? -0.0 : 0.0);
    }
    for (const auto& variant : variants()) {
      SCOPED_TRACE(testing::Message() << variant.name << ", " << dtype_name(t));
      const kernel_sums s = variant.compute(a.run(), b.run(), n);
      EXPECT_EQ(s.bitwise_equal, 0U);
      EXPECT_EQ(s.count, n);     // zeros are finite
      EXPECT_EQ(s.sum_dd, 0.0);  // and numerically equal
      const kernel_sums same = variant.compute(a.run(), a.run(), n);
      EXPECT_EQ(same.bitwise_equal, n);
    }
  }
}

// NaNs are compared by their bits too: a signalling NaN and the quiet NaN with the same payload
// differ in the quiet bit, in F32 as in F16 (and the comparison must not quieten them first).
TEST(Kernel, SignallingAndQuietNaNAreNotBitwiseEqual) {
  const std::vector<std::pair<dtype, std::pair<std::uint64_t, std::uint64_t>>> cases = {
      {dtype::f32, {0x7F800001u, 0x7FC00001u}},
      {dtype::f16, {0x7C01u, 0x7E01u}},
      {dtype::bf16, {0x7F81u, 0x7FC1u}}};
  for (const auto& [type, codes] : cases) {
    constexpr std::size_t n = 16;
    typed_vector a(type, n), b(type, n);
    for (std::size_t i = 0; i < n; ++i) {
      a.set_code(i, codes.first);
      b.set_code(i, codes.second);
    }
    for (const auto& variant : variants()) {
      SCOPED_TRACE(testing::Message() << variant.name << ", " << dtype_name(type));
      const kernel_sums s = variant.compute(a.run(), b.run(), n);
      EXPECT_EQ(s.nonfinite_a, n);
      EXPECT_EQ(s.nonfinite_b, n);
      EXPECT_EQ(s.bitwise_equal, 0U);
      EXPECT_EQ(variant.compute(a.run(), a.run(), n).bitwise_equal, n);
    }
  }
}

TEST(Kernel, OneUlpApartIsNotBitwiseEqual) {
  constexpr std::size_t n = 4099;
  const auto values = test::normal_values(n, 0.0, 1.0, 5);
  const typed_vector a = test::encode(dtype::bf16, values);
  typed_vector b(dtype::f32, n);
  for (std::size_t i = 0; i < n; ++i)
    b.set_code(i,
               std::bit_cast<std::uint32_t>(static_cast<float>(test::reference_value(a, i))) + (i % 3 == 0));
  for (const auto& variant : variants()) {
    const kernel_sums s = variant.compute(a.run(), b.run(), n);
    EXPECT_EQ(s.bitwise_equal, n - (n + 2) / 3);
  }
}

// --- exact figures for identical and constant inputs ---------------------------------------------

TEST(Kernel, IdenticalInputsGiveCosineAndPearsonExactlyOne) {
  for (const dtype t : all_dtypes)
    for (const std::uint64_t n : {2, 9, 2049, 100003}) {
      auto [a, unused] = realistic_pair(t, t, n, 7000 + n);
      if (n > 100) inject_nonfinite(a, a);
      for (const auto& variant : variants()) {
        SCOPED_TRACE(testing::Message() << variant.name << ", " << dtype_name(t) << ", n = " << n);
        const pair_moments whole = pair_moments::from_block(variant.compute(a.run(), a.run(), n));
        const similarity f = derive_similarity(whole);
        EXPECT_EQ(f.cosine, 1.0);
        EXPECT_EQ(f.pearson, 1.0);
        EXPECT_EQ(f.rel_l2, 0.0);
        EXPECT_EQ(f.norm_ratio, 1.0);
        EXPECT_EQ(f.bitwise_equal_fraction, 1.0);
        // The same after merging blocks.
        if (n < 9) continue;
        const std::size_t cut1 = n / 3, cut2 = n / 2 + 5;
        pair_moments merged;
        for (const auto& [first, last] :
             {std::pair<std::size_t, std::size_t>{0, cut1}, {cut1, cut2}, {cut2, n}}) {
          const typed_vector part = a.slice(first, last - first);
          merged.merge(pair_moments::from_block(variant.compute(part.run(), part.run(), last - first)));
        }
        const similarity g = derive_similarity(merged);
        EXPECT_EQ(g.cosine, 1.0);
        EXPECT_EQ(g.pearson, 1.0);
        EXPECT_EQ(g.rel_l2, 0.0);
      }
    }
}

TEST(Kernel, ConstantVectorHasUndefinedPearsonButDefinedCosine) {
  for (const dtype t : all_dtypes)
    for (const std::uint64_t n : {1, 300, 5000}) {
      const typed_vector a = test::encode(t, std::vector<double>(n, 0.75));
      const typed_vector b = realistic_pair(t, t, n, 8000 + n).first;
      const typed_vector c = test::encode(t, std::vector<double>(n, 2.0));
      for (const auto& variant : variants()) {
        SCOPED_TRACE(testing::Message() << variant.name << ", " << dtype_name(t) << ", n = " << n);
        const pair_moments m = pair_moments::from_block(variant.compute(a.run(), b.run(), n));
        EXPECT_EQ(m.m2_a, 0.0);
        const similarity f = derive_similarity(m);
        EXPECT_TRUE(std::isnan(f.pearson));
        if (m.raw_bb > 0) {
          EXPECT_TRUE(std::isfinite(f.cosine));
        }
        EXPECT_LE(std::fabs(f.cosine), 1.0);
        EXPECT_EQ(f.mean_a, 0.75);
        // Two constants: parallel vectors, cosine 1, Pearson still undefined.
        const similarity g =
            derive_similarity(pair_moments::from_block(variant.compute(a.run(), c.run(), n)));
        EXPECT_NEAR(g.cosine, 1.0, 1e-15);
        EXPECT_TRUE(std::isnan(g.pearson));
        EXPECT_DOUBLE_EQ(g.norm_ratio, 2.0 / 0.75);
      }
    }
}


// The similarity matrices' dot products: every variant gives the same bits, whatever the shape
// (4 × 3 tiles and the edges around them), and each cell is the dot product to float rounding.
TEST(DotMatrix, VariantsAndTilingGiveTheSameBits) {
  std::mt19937_64 engine(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const std::size_t length : {std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{33}, std::size_t{1024}}) {
    SCOPED_TRACE(testing::Message() << "length " << length);
    const std::size_t rows = 7, columns = 5;
    std::vector<float> a(rows * length), b(columns * length);
    for (float& v : a) v = normal(engine);
    for (float& v : b) v = normal(engine);
    std::vector<double> reference(rows * columns);
    variants().front().dot_matrix(a.data(), rows, b.data(), columns, length, reference.data());
    for (const auto& variant : variants()) {
      SCOPED_TRACE(std::string(variant.name));
      std::vector<double> full(rows * columns);
      variant.dot_matrix(a.data(), rows, b.data(), columns, length, full.data());
      for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < columns; ++j) {
          EXPECT_EQ(std::bit_cast<std::uint64_t>(full[i * columns + j]),
                    std::bit_cast<std::uint64_t>(reference[i * columns + j]));
          // The same cell computed alone (an edge, 1 × 1) has the same bits as inside a tile.
          double alone = 0;
          variant.dot_matrix(a.data() + i * length, 1, b.data() + j * length, 1, length, &alone);
          EXPECT_EQ(std::bit_cast<std::uint64_t>(alone), std::bit_cast<std::uint64_t>(full[i * columns + j]));
          long double exact = 0;
          for (std::size_t k = 0; k < length; ++k)
            exact += static_cast<long double>(a[i * length + k]) * b[j * length + k];
          EXPECT_NEAR(full[i * columns + j], static_cast<double>(exact), 1e-5 * std::sqrt(static_cast<double>(length)));
        }
    }
  }
}

// The fingerprints' products with WᵀW: every variant gives the same bits for any row count (groups
// of eight and the last group) and length (four or sixteen columns at a time and the rest), each entry
// z_jc = Σ_r w_rj Σ_k w_rk q_kc to float rounding.
TEST(GramBlock, VariantsGiveTheSameBitsAndTheProduct) {
  std::mt19937_64 engine(12);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  // Rows: one, a group of eight, 13 (a last group of five), 16 and 35 (a last group of three);
  // lengths below and above the AVX-512 variant's sixteen columns at a time (50: three sixteens
  // and two columns one at a time).
  for (const std::size_t rows : {std::size_t{1}, std::size_t{8}, std::size_t{13}, std::size_t{16}, std::size_t{35}})
    for (const std::size_t length : {std::size_t{1}, std::size_t{6}, std::size_t{37}, std::size_t{50}}) {
      SCOPED_TRACE(testing::Message() << rows << " rows of " << length);
      std::vector<float> w(rows * length), q(length * kernel_lanes);
      for (float& v : w) v = normal(engine);
      for (float& v : q) v = normal(engine);
      std::vector<float> reference(length * kernel_lanes, -1.0f);
      variants().front().gram_block(w.data(), rows, length, q.data(), reference.data());
      for (const auto& variant : variants()) {
        SCOPED_TRACE(std::string(variant.name));
        std::vector<float> z(length * kernel_lanes, 7.0f);  // overwritten, not added to
        variant.gram_block(w.data(), rows, length, q.data(), z.data());
        for (std::size_t e = 0; e < z.size(); ++e)
          EXPECT_EQ(std::bit_cast<std::uint32_t>(z[e]), std::bit_cast<std::uint32_t>(reference[e]));
      }
      for (std::size_t j = 0; j < length; ++j)
        for (std::size_t c = 0; c < kernel_lanes; ++c) {
          double exact = 0, scale = 0;
          for (std::size_t r = 0; r < rows; ++r) {
            double y = 0;
            for (std::size_t k = 0; k < length; ++k) y += static_cast<double>(w[r * length + k]) * q[k * kernel_lanes + c];
            exact += static_cast<double>(w[r * length + j]) * y;
            scale += std::abs(w[r * length + j]) * std::sqrt(static_cast<double>(length));
          }
          EXPECT_NEAR(reference[j * kernel_lanes + c], exact, 1e-5 * (1 + scale));
        }
    }
}

// The cyclic nulls' spectrum sums: every variant, two bins per vector and an odd last bin, gives
// exactly the scalar formulas' bits (conj(x)·y, |x|², |y|², each added to what is there).
TEST(SpectrumSums, VariantsGiveTheScalarFormulasBits) {
  std::mt19937_64 engine(13);
  std::normal_distribution<double> normal(0.0, 1e3);
  for (const std::size_t bins : {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{1025}}) {
    SCOPED_TRACE(testing::Message() << bins << " bins");
    std::vector<double> x(2 * bins), y(2 * bins), start_total(2 * bins), start_squares(2 * bins);
    for (auto* v : {&x, &y, &start_total, &start_squares})
      for (double& e : *v) e = normal(engine);
    std::vector<double> total = start_total, squares = start_squares;
    for (std::size_t k = 0; k < bins; ++k) {
      const double xr = x[2 * k], xi = x[2 * k + 1], yr = y[2 * k], yi = y[2 * k + 1];
      total[2 * k] += xr * yr + xi * yi;
      total[2 * k + 1] += xr * yi - xi * yr;
      squares[2 * k] += xr * xr + xi * xi;
      squares[2 * k + 1] += yr * yr + yi * yi;
    }
    for (const auto& variant : variants()) {
      SCOPED_TRACE(std::string(variant.name));
      std::vector<double> t = start_total, q = start_squares;
      variant.spectrum_sums(x.data(), y.data(), bins, t.data(), q.data());
      for (std::size_t e = 0; e < t.size(); ++e) {
        EXPECT_EQ(std::bit_cast<std::uint64_t>(t[e]), std::bit_cast<std::uint64_t>(total[e])) << e;
        EXPECT_EQ(std::bit_cast<std::uint64_t>(q[e]), std::bit_cast<std::uint64_t>(squares[e])) << e;
      }
    }
  }
}

}  // namespace
}  // namespace lineage
