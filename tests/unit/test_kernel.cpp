// The statistics kernel (shard/kernel*.{hpp,cpp}) against a naive long-double reference, for every
// pair of dtypes and lengths around the lane, chunk and fold boundaries; bit-identity of every
// runnable variant; non-finite handling; alignment independence; empty, all-non-finite and F64
// blocks. Bitwise equality and exact figures: test_kernel_equality.cpp.
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

using test::typed_vector;

// Float partials hold at most 32 single-precision terms per lane before they fold into double, and
// F32 differences (a - shift) are rounded once, so the worst case is 32·2^-24 + 2^-23 ≈ 2e-6 of the
// sum of the magnitudes of the terms. Rounding errors of random sign grow like √terms, not terms:
// the largest seen on this data is 1.2e-7, so 1e-6 keeps an eightfold margin and still catches a
// single lost or doubled element of a 10^5-element block.
constexpr double kernel_relative = 1e-6;

const std::vector<std::uint64_t> lengths = {0, 1, 7, 8, 9, 2047, 2048, 2049, 100003};

using namespace kernel_test;  // NOLINT: the variants and the test data

// Checks one kernel result against the long-double reference, both the raw kernel sums (against
// the reference shifted by the kernel's own shifts) and the moments made from them.
void expect_matches_reference(const kernel_sums& s, const typed_vector& a, const typed_vector& b) {
  const test::reference_stats r = test::reference_block(a, b);
  const test::shifted_magnitudes mag = test::magnitudes(a, b, s.shift_a, s.shift_b);
  EXPECT_EQ(s.elements, r.elements);
  EXPECT_EQ(s.count, r.count);
  EXPECT_EQ(s.nonfinite_a, r.nonfinite_a);
  EXPECT_EQ(s.nonfinite_b, r.nonfinite_b);
  EXPECT_EQ(s.bitwise_equal, r.bitwise_equal);
  // Minimum and maximum of an F64 side are checked in F64MinMaxAreExact.
  const double float_slack_a = a.type() == dtype::f64 ? 1e-7 : 0.0;
  const double float_slack_b = b.type() == dtype::f64 ? 1e-7 : 0.0;
  const auto near_or_equal = [](double expected, double actual, double relative) {
    return expected == actual || std::fabs(expected - actual) <= relative * std::fabs(expected);
  };
  EXPECT_TRUE(near_or_equal(r.min_a, s.min_a, float_slack_a)) << r.min_a << " vs " << s.min_a;
  EXPECT_TRUE(near_or_equal(r.max_a, s.max_a, float_slack_a)) << r.max_a << " vs " << s.max_a;
  EXPECT_TRUE(near_or_equal(r.min_b, s.min_b, float_slack_b)) << r.min_b << " vs " << s.min_b;
  EXPECT_TRUE(near_or_equal(r.max_b, s.max_b, float_slack_b)) << r.max_b << " vs " << s.max_b;

  const long double n = static_cast<long double>(r.count);
  const long double off_a = r.count > 0 ? r.mean_a - s.shift_a : 0;  // mean minus shift
  const long double off_b = r.count > 0 ? r.mean_b - s.shift_b : 0;
  const auto check = [](const char* what, long double expected, double actual, long double tolerance) {
    EXPECT_LE(std::fabs(static_cast<long double>(actual) - expected), tolerance)
        << what << ": expected " << static_cast<double>(expected) << ", got " << actual;
  };
  const double rel = kernel_relative;
  check("sum_a", n * off_a, s.sum_a, rel * mag.abs_da);
  check("sum_b", n * off_b, s.sum_b, rel * mag.abs_db);
  check("sum_aa", r.m2_a + n * off_a * off_a, s.sum_aa, rel * mag.sq_da);
  check("sum_bb", r.m2_b + n * off_b * off_b, s.sum_bb, rel * mag.sq_db);
  check("sum_ab", r.c_ab + n * off_a * off_b, s.sum_ab, rel * mag.abs_dadb);
  check("sum_dd", r.sum_dd, s.sum_dd, rel * mag.sq_d);

  const pair_moments m = pair_moments::from_block(s);
  EXPECT_EQ(m.elements, r.elements);
  EXPECT_EQ(m.count, r.count);
  if (r.count == 0) return;
  const long double fa = std::fabs(off_a), fb = std::fabs(off_b);
  const long double sa = std::fabs(s.shift_a), sb = std::fabs(s.shift_b);
  const long double rounding = 1e-13L;  // double arithmetic in from_block
  check("mean_a", r.mean_a, m.mean_a, rel * mag.abs_da / n + rounding * (sa + fa));
  check("mean_b", r.mean_b, m.mean_b, rel * mag.abs_db / n + rounding * (sb + fb));
  check("m2_a", r.m2_a, m.m2_a, rel * (mag.sq_da + 2 * fa * mag.abs_da) + rounding * mag.sq_da);
  check("m2_b", r.m2_b, m.m2_b, rel * (mag.sq_db + 2 * fb * mag.abs_db) + rounding * mag.sq_db);
  check("c_ab", r.c_ab, m.c_ab,
        rel * (mag.abs_dadb + fb * mag.abs_da + fa * mag.abs_db) + rounding * mag.abs_dadb);
  check("raw_aa", r.raw_aa, m.raw_aa, rel * (mag.sq_da + 2 * sa * mag.abs_da) + rounding * r.raw_aa);
  check("raw_bb", r.raw_bb, m.raw_bb, rel * (mag.sq_db + 2 * sb * mag.abs_db) + rounding * r.raw_bb);
  check("raw_ab", r.raw_ab, m.raw_ab,
        rel * (mag.abs_dadb + sb * mag.abs_da + sa * mag.abs_db) +
            rounding * (std::sqrt(r.raw_aa * r.raw_bb) + n * sa * sb));
  check("sum_dd", r.sum_dd, m.sum_dd, rel * mag.sq_d);
}

std::string combo_name(const ::testing::TestParamInfo<std::tuple<dtype, dtype>>& info) {
  return std::string(dtype_name(std::get<0>(info.param))) + "_" +
         std::string(dtype_name(std::get<1>(info.param)));
}

class KernelCombo : public ::testing::TestWithParam<std::tuple<dtype, dtype>> {
 protected:
  dtype ta() const { return std::get<0>(GetParam()); }
  dtype tb() const { return std::get<1>(GetParam()); }
};

// Realistic data, every variant, every length: sums and moments within the rounding bound of the
// float partials; counts exact.
TEST_P(KernelCombo, MatchesLongDoubleReference) {
  for (const std::uint64_t n : lengths) {
    const auto [a, b] = realistic_pair(ta(), tb(), n, 1000 + n);
    for (const auto& variant : variants()) {
      SCOPED_TRACE(testing::Message() << variant.name << ", n = " << n);
      expect_matches_reference(variant.compute(a.run(), b.run(), n), a, b);
    }
  }
}

// NaN and ±Inf on either side are counted per side, their pairs leave every sum, and min/max skip
// them; the rest matches the reference over the finite pairs.
TEST_P(KernelCombo, NonFiniteValuesAreCountedAndExcluded) {
  for (const std::uint64_t n : lengths) {
    auto [a, b] = realistic_pair(ta(), tb(), n, 2000 + n);
    inject_nonfinite(a, b);
    for (const auto& variant : variants()) {
      SCOPED_TRACE(testing::Message() << variant.name << ", n = " << n);
      const kernel_sums s = variant.compute(a.run(), b.run(), n);
      expect_matches_reference(s, a, b);
      if (n >= 9) {
        EXPECT_GT(s.nonfinite_a + s.nonfinite_b, 0U);
      }
      for (const double extreme : {s.min_a, s.max_a, s.min_b, s.max_b})
        if (n > 10) {
          EXPECT_TRUE(std::isfinite(extreme));
        }
    }
  }
}

// Small integers whose first finite values sum to zero on each side: the shift is 0, every term and
// partial sum is an exactly representable integer, so the kernel must agree with the reference
// EXACTLY — also around non-finite values, whose chunks the fast path hands to the scalar path.
std::pair<typed_vector, typed_vector> integer_pair(dtype ta, dtype tb, std::size_t n, bool with_nonfinite,
                                                   std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_int_distribution<int> small(-3, 3);
  typed_vector a(ta, n), b(tb, n);
  for (typed_vector* v : {&a, &b}) {
    for (std::size_t i = 0; i < n; ++i) v->set_value(i, small(engine));
  }
  if (with_nonfinite) inject_nonfinite(a, b);
  for (typed_vector* v : {&a, &b}) {
    // The first (up to) 256 finite values come in ± pairs (and a 0 when their number is odd).
    std::vector<std::size_t> first_finite;
    for (std::size_t i = 0; i < n && first_finite.size() < 256; ++i)
      if (std::isfinite(test::reference_value(*v, i))) first_finite.push_back(i);
    for (std::size_t k = 0; k + 1 < first_finite.size(); k += 2) {
      const int value = small(engine);
      v->set_value(first_finite[k], value);
      v->set_value(first_finite[k + 1], -value);
    }
    if (first_finite.size() % 2 == 1) v->set_value(first_finite.back(), 0.0);
  }
  return {std::move(a), std::move(b)};
}

TEST_P(KernelCombo, ExactOnIntegerData) {
  for (const bool with_nonfinite : {false, true})
    for (const std::uint64_t n : {0, 1, 7, 8, 9, 255, 256, 257, 2047, 2048, 2049, 4097, 100003}) {
      const auto [a, b] = integer_pair(ta(), tb(), n, with_nonfinite, 3000 + n);
      const test::reference_stats r = test::reference_block(a, b);
      for (const auto& variant : variants()) {
        SCOPED_TRACE(testing::Message()
                     << variant.name << ", n = " << n << ", non-finite " << with_nonfinite);
        const kernel_sums s = variant.compute(a.run(), b.run(), n);
        ASSERT_EQ(s.shift_a, 0.0);
        ASSERT_EQ(s.shift_b, 0.0);
        EXPECT_EQ(s.count, r.count);
        EXPECT_EQ(s.nonfinite_a, r.nonfinite_a);
        EXPECT_EQ(s.nonfinite_b, r.nonfinite_b);
        EXPECT_EQ(s.bitwise_equal, r.bitwise_equal);
        EXPECT_EQ(s.sum_a, static_cast<double>(r.sum_a));
        EXPECT_EQ(s.sum_b, static_cast<double>(r.sum_b));
        EXPECT_EQ(s.sum_aa, static_cast<double>(r.raw_aa));
        EXPECT_EQ(s.sum_bb, static_cast<double>(r.raw_bb));
        EXPECT_EQ(s.sum_ab, static_cast<double>(r.raw_ab));
        EXPECT_EQ(s.sum_dd, static_cast<double>(r.sum_dd));
        if (r.count > 0) {
          EXPECT_EQ(s.min_a, r.min_a);
          EXPECT_EQ(s.max_a, r.max_a);
          EXPECT_EQ(s.min_b, r.min_b);
          EXPECT_EQ(s.max_b, r.max_b);
        }
      }
    }
}

// Arbitrary codes — NaN payloads, signalling NaNs, subnormals, infinities, huge values — and
// realistic data with sparse specials: every runnable variant returns the same bits.
TEST_P(KernelCombo, AllVariantsGiveIdenticalBits) {
  const auto all = variants();
  ASSERT_FALSE(all.empty());
  for (const std::uint64_t n : lengths) {
    std::mt19937_64 engine(4000 + n);
    typed_vector wild_a(ta(), n), wild_b(tb(), n);
    for (std::size_t i = 0; i < n; ++i) {
      wild_a.set_code(i, engine());
      wild_b.set_code(i, engine());
    }
    auto [a, b] = realistic_pair(ta(), tb(), n, 5000 + n);
    // Specials in the second and fourth chunk only, so other chunks take the fast path.
    for (std::size_t i = 2048; i < std::min<std::size_t>(n, 4096); i += 97) a.set_code(i, engine());
    for (std::size_t i = 6144; i < std::min<std::size_t>(n, 8192); i += 89) b.set_code(i, engine());
    for (const auto* data : {&a, &wild_a}) {
      const typed_vector& x = *data;
      const typed_vector& y = data == &a ? b : wild_b;
      const kernel_sums first = all.front().compute(x.run(), y.run(), n);
      // The same variant twice: no hidden state between calls.
      EXPECT_TRUE(test::same_bits(first, all.front().compute(x.run(), y.run(), n)));
      for (const auto& variant : all) {
        SCOPED_TRACE(testing::Message() << variant.name << " vs " << all.front().name << ", n = " << n
                                        << (data == &a ? ", realistic" : ", arbitrary codes"));
        EXPECT_TRUE(test::same_bits(first, variant.compute(x.run(), y.run(), n)));
      }
      EXPECT_TRUE(test::same_bits(first, compute_block_sums(x.run(), y.run(), n)));
    }
  }
}

// Data one byte (or three) past an aligned address gives the same bits as aligned data.
TEST_P(KernelCombo, UnalignedDataGivesSameBits) {
  for (const std::uint64_t n : {9, 2049, 100003}) {
    auto [a, b] = realistic_pair(ta(), tb(), n, 6000 + n);
    inject_nonfinite(a, b);
    for (const auto& variant : variants()) {
      const kernel_sums aligned = variant.compute(a.run(), b.run(), n);
      for (const std::size_t gap : {1, 3}) {
        SCOPED_TRACE(testing::Message() << variant.name << ", n = " << n << ", gap " << gap);
        const typed_vector ua = a.with_misalign(gap), ub = b.with_misalign(gap + 1);
        ASSERT_NE(reinterpret_cast<std::uintptr_t>(ua.data()) % 2,
                  reinterpret_cast<std::uintptr_t>(a.data()) % 2);
        EXPECT_TRUE(test::same_bits(aligned, variant.compute(ua.run(), ub.run(), n)));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllDtypePairs, KernelCombo,
                         ::testing::Combine(::testing::ValuesIn(all_dtypes), ::testing::ValuesIn(all_dtypes)),
                         combo_name);

// --- single-purpose kernel tests ---------------------------------------------------------------

TEST(Kernel, VariantTableListsGenericAvx2AndAvx512WhereSupported) {
  const auto all = variants();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.back().name, "generic");
  bool has_avx2 = false, has_avx512 = false;
  for (const auto& v : all) has_avx2 = has_avx2 || v.name == "avx2", has_avx512 = has_avx512 || v.name == "avx512";
#if defined(__x86_64__)
  __builtin_cpu_init();
  // F16C from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports does not know "f16c".
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
  const bool cpu_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
  EXPECT_EQ(has_avx2, cpu_avx2) << "the bit-identity tests compare variants only when both run";
  const bool cpu_avx512 = cpu_avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
  EXPECT_EQ(has_avx512, cpu_avx512);
  if (cpu_avx512) {
    EXPECT_EQ(all.front().name, "avx512");
  }
#endif
  const std::string_view best = best_kernel().name;
  bool listed = false;
  for (const auto& v : all) listed = listed || v.name == best;
  EXPECT_TRUE(listed);
}

TEST(Kernel, EmptyBlock) {
  for (const auto& variant : variants()) {
    const kernel_sums s = variant.compute({nullptr, dtype::bf16}, {nullptr, dtype::f32}, 0);
    EXPECT_EQ(s.elements, 0U);
    EXPECT_EQ(s.count, 0U);
    EXPECT_EQ(s.bitwise_equal, 0U);
    EXPECT_EQ(s.sum_a, 0.0);
    EXPECT_EQ(s.sum_aa, 0.0);
    EXPECT_EQ(s.sum_dd, 0.0);
    EXPECT_EQ(s.min_a, std::numeric_limits<double>::infinity());
    EXPECT_EQ(s.max_a, -std::numeric_limits<double>::infinity());
    const similarity f = derive_similarity(pair_moments::from_block(s));
    EXPECT_TRUE(std::isnan(f.cosine));
    EXPECT_TRUE(std::isnan(f.pearson));
    EXPECT_TRUE(std::isnan(f.mean_a));
    EXPECT_TRUE(std::isnan(f.bitwise_equal_fraction));
  }
}

TEST(Kernel, AllNonFiniteBlock) {
  typed_vector a(dtype::bf16, 3000), b(dtype::bf16, 3000);
  for (std::size_t i = 0; i < 3000; ++i) {
    a.set_code(i, test::nan_code(dtype::bf16));
    b.set_value(i, 1.0 + static_cast<double>(i % 7));
  }
  for (const auto& variant : variants()) {
    const kernel_sums s = variant.compute(a.run(), b.run(), 3000);
    EXPECT_EQ(s.elements, 3000U);
    EXPECT_EQ(s.count, 0U);
    EXPECT_EQ(s.nonfinite_a, 3000U);
    EXPECT_EQ(s.nonfinite_b, 0U);
    EXPECT_EQ(s.sum_b, 0.0);
    EXPECT_EQ(s.sum_bb, 0.0);
    EXPECT_EQ(s.sum_dd, 0.0);
    EXPECT_EQ(s.min_a, std::numeric_limits<double>::infinity());
    EXPECT_EQ(s.min_b, 1.0);  // min/max of a side look at that side's finite values only
    EXPECT_EQ(s.max_b, 7.0);
  }
}

// Minimum and maximum are documented as doubles: for an F64 side they must be the exact extremes,
// not their float roundings (and a finite 1e300 must not become +Inf).
TEST(Kernel, F64MinMaxAreExact) {
  const std::vector<double> values = {0.1, -0.3, 1e300, -1e-310, 2.5, 0.7};
  const typed_vector a = test::encode(dtype::f64, values);
  const typed_vector b = test::encode(dtype::f32, std::vector<double>(values.size(), 1.0));
  for (const auto& variant : variants()) {
    SCOPED_TRACE(variant.name);
    const kernel_sums s = variant.compute(a.run(), b.run(), values.size());
    EXPECT_EQ(s.min_a, -0.3);
    EXPECT_EQ(s.max_a, 1e300);
  }
  const std::vector<double> small = {0.1, 0.2, 0.30000000000000004};
  const typed_vector c = test::encode(dtype::f64, small);
  for (const auto& variant : variants()) {
    const kernel_sums s = variant.compute(c.run(), c.run(), small.size());
    EXPECT_EQ(s.min_a, 0.1);
    EXPECT_EQ(s.max_b, 0.30000000000000004);
  }
}

}  // namespace
}  // namespace lineage
