// core/dtype: names and sizes, decoding of every code of the narrow types against an independent
// decoder, the special values of each format, round-to-nearest-even encoding at ties, and which
// types widen exactly into which.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <vector>

#include "core/dtype.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using test::reference_decode;

// Same value and same sign (so -0 and +0 differ), or both NaN with the same sign.
::testing::AssertionResult same_value(double expected, double actual) {
  if (std::isnan(expected) && std::isnan(actual) && std::signbit(expected) == std::signbit(actual))
    return ::testing::AssertionSuccess();
  if (expected == actual && std::signbit(expected) == std::signbit(actual))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected " << expected << ", got " << actual;
}

float decode(dtype type, std::uint32_t code) {
  switch (type) {
    case dtype::bf16:
      return bf16_to_float(static_cast<std::uint16_t>(code));
    case dtype::f16:
      return f16_to_float(static_cast<std::uint16_t>(code));
    case dtype::f8_e4m3:
      return f8_e4m3_to_float(static_cast<std::uint8_t>(code));
    case dtype::f8_e5m2:
      return f8_e5m2_to_float(static_cast<std::uint8_t>(code));
    default:
      return std::numeric_limits<float>::signaling_NaN();
  }
}

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

TEST(Dtype, NamesSizesAndParsing) {
  const std::vector<std::pair<dtype, std::pair<const char*, std::size_t>>> expected = {
      {dtype::f64, {"F64", 8}},   {dtype::f32, {"F32", 4}},         {dtype::f16, {"F16", 2}},
      {dtype::bf16, {"BF16", 2}}, {dtype::f8_e4m3, {"F8_E4M3", 1}}, {dtype::f8_e5m2, {"F8_E5M2", 1}}};
  for (const auto& [type, name_size] : expected) {
    EXPECT_EQ(dtype_name(type), name_size.first);
    EXPECT_EQ(dtype_size(type), name_size.second);
    EXPECT_EQ(parse_dtype(name_size.first), type);
  }
  for (const char* unsupported : {"", "f32", "I8", "BOOL", "F8_E4M3FN", "BF16 ", "U8"})
    EXPECT_FALSE(parse_dtype(unsupported).has_value()) << unsupported;
}

TEST(Dtype, Bf16SpecialValues) {
  EXPECT_TRUE(same_value(0.0, bf16_to_float(0x0000)));
  EXPECT_TRUE(same_value(-0.0, bf16_to_float(0x8000)));
  EXPECT_TRUE(same_value(std::ldexp(1.0, -133), bf16_to_float(0x0001)));    // smallest subnormal
  EXPECT_TRUE(same_value(std::ldexp(127.0, -133), bf16_to_float(0x007F)));  // largest subnormal
  EXPECT_TRUE(same_value(std::ldexp(1.0, -126), bf16_to_float(0x0080)));    // smallest normal
  EXPECT_TRUE(same_value(std::ldexp(255.0, 120), bf16_to_float(0x7F7F)));   // max = (2 - 2^-7) 2^127
  EXPECT_TRUE(same_value(-std::ldexp(255.0, 120), bf16_to_float(0xFF7F)));
  EXPECT_TRUE(same_value(1.0, bf16_to_float(0x3F80)));
  EXPECT_TRUE(same_value(-2.0, bf16_to_float(0xC000)));
  EXPECT_TRUE(same_value(inf, bf16_to_float(0x7F80)));
  EXPECT_TRUE(same_value(-inf, bf16_to_float(0xFF80)));
  EXPECT_TRUE(std::isnan(bf16_to_float(0x7FC0)));
  EXPECT_TRUE(std::isnan(bf16_to_float(0x7F81)));  // signalling pattern is still NaN
  EXPECT_TRUE(std::signbit(bf16_to_float(0xFFC0)));
}

TEST(Dtype, F16SpecialValues) {
  EXPECT_TRUE(same_value(0.0, f16_to_float(0x0000)));
  EXPECT_TRUE(same_value(-0.0, f16_to_float(0x8000)));
  EXPECT_TRUE(same_value(std::ldexp(1.0, -24), f16_to_float(0x0001)));
  EXPECT_TRUE(same_value(-std::ldexp(1.0, -24), f16_to_float(0x8001)));
  EXPECT_TRUE(same_value(std::ldexp(1023.0, -24), f16_to_float(0x03FF)));
  EXPECT_TRUE(same_value(std::ldexp(1.0, -14), f16_to_float(0x0400)));
  EXPECT_TRUE(same_value(65504.0, f16_to_float(0x7BFF)));
  EXPECT_TRUE(same_value(-65504.0, f16_to_float(0xFBFF)));
  EXPECT_TRUE(same_value(1.0, f16_to_float(0x3C00)));
  EXPECT_TRUE(same_value(0.333251953125, f16_to_float(0x3555)));
  EXPECT_TRUE(same_value(inf, f16_to_float(0x7C00)));
  EXPECT_TRUE(same_value(-inf, f16_to_float(0xFC00)));
  EXPECT_TRUE(std::isnan(f16_to_float(0x7E00)));
  EXPECT_TRUE(std::isnan(f16_to_float(0x7C01)));
  EXPECT_TRUE(std::signbit(f16_to_float(0xFE00)));
}

TEST(Dtype, F8E4M3SpecialValuesHaveNoInfinity) {
  EXPECT_TRUE(same_value(0.0, f8_e4m3_to_float(0x00)));
  EXPECT_TRUE(same_value(-0.0, f8_e4m3_to_float(0x80)));
  EXPECT_TRUE(same_value(std::ldexp(1.0, -9), f8_e4m3_to_float(0x01)));  // smallest subnormal
  EXPECT_TRUE(same_value(std::ldexp(7.0, -9), f8_e4m3_to_float(0x07)));  // largest subnormal
  EXPECT_TRUE(same_value(std::ldexp(1.0, -6), f8_e4m3_to_float(0x08)));  // smallest normal
  EXPECT_TRUE(same_value(1.0, f8_e4m3_to_float(0x38)));
  EXPECT_TRUE(same_value(256.0, f8_e4m3_to_float(0x78)));  // exponent 1111 is still finite
  EXPECT_TRUE(same_value(448.0, f8_e4m3_to_float(0x7E)));  // max
  EXPECT_TRUE(same_value(-448.0, f8_e4m3_to_float(0xFE)));
  EXPECT_TRUE(std::isnan(f8_e4m3_to_float(0x7F)));
  EXPECT_TRUE(std::isnan(f8_e4m3_to_float(0xFF)));
  EXPECT_TRUE(std::signbit(f8_e4m3_to_float(0xFF)));
  int nans = 0;
  for (int code = 0; code < 256; ++code) {
    EXPECT_FALSE(std::isinf(f8_e4m3_to_float(static_cast<std::uint8_t>(code)))) << code;
    nans += std::isnan(f8_e4m3_to_float(static_cast<std::uint8_t>(code)));
  }
  EXPECT_EQ(nans, 2);
}

TEST(Dtype, F8E5M2SpecialValuesHaveInfinity) {
  EXPECT_TRUE(same_value(0.0, f8_e5m2_to_float(0x00)));
  EXPECT_TRUE(same_value(-0.0, f8_e5m2_to_float(0x80)));
  EXPECT_TRUE(same_value(std::ldexp(1.0, -16), f8_e5m2_to_float(0x01)));
  EXPECT_TRUE(same_value(std::ldexp(3.0, -16), f8_e5m2_to_float(0x03)));
  EXPECT_TRUE(same_value(std::ldexp(1.0, -14), f8_e5m2_to_float(0x04)));
  EXPECT_TRUE(same_value(1.0, f8_e5m2_to_float(0x3C)));
  EXPECT_TRUE(same_value(57344.0, f8_e5m2_to_float(0x7B)));
  EXPECT_TRUE(same_value(-57344.0, f8_e5m2_to_float(0xFB)));
  EXPECT_TRUE(same_value(inf, f8_e5m2_to_float(0x7C)));
  EXPECT_TRUE(same_value(-inf, f8_e5m2_to_float(0xFC)));
  for (const int code : {0x7D, 0x7E, 0x7F, 0xFD, 0xFE, 0xFF})
    EXPECT_TRUE(std::isnan(f8_e5m2_to_float(static_cast<std::uint8_t>(code)))) << code;
}

// Every code of the 8- and 16-bit types decodes to what an independent decoder says, and the
// decode tables agree with the scalar functions bit for bit.
TEST(Dtype, EveryNarrowCodeMatchesIndependentDecoder) {
  for (const dtype type : {dtype::f8_e4m3, dtype::f8_e5m2, dtype::f16, dtype::bf16}) {
    const std::uint32_t codes = dtype_size(type) == 1 ? 256u : 65536u;
    int mismatches = 0;
    for (std::uint32_t code = 0; code < codes; ++code) {
      const float value = decode(type, code);
      if (!same_value(reference_decode(type, code), value)) {
        if (++mismatches <= 5) ADD_FAILURE() << dtype_name(type) << " code " << code;
      }
    }
    EXPECT_EQ(mismatches, 0) << dtype_name(type);
  }
  const float* e4m3 = f8_e4m3_table();
  const float* e5m2 = f8_e5m2_table();
  for (std::uint32_t code = 0; code < 256; ++code) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(e4m3[code]),
              std::bit_cast<std::uint32_t>(f8_e4m3_to_float(static_cast<std::uint8_t>(code))));
    EXPECT_EQ(std::bit_cast<std::uint32_t>(e5m2[code]),
              std::bit_cast<std::uint32_t>(f8_e5m2_to_float(static_cast<std::uint8_t>(code))));
  }
  const float* f16 = f16_table();
  int table_mismatches = 0;
  for (std::uint32_t code = 0; code < 65536; ++code)
    table_mismatches += std::bit_cast<std::uint32_t>(f16[code]) !=
                        std::bit_cast<std::uint32_t>(f16_to_float(static_cast<std::uint16_t>(code)));
  EXPECT_EQ(table_mismatches, 0);
}

TEST(Dtype, Bf16EncodingRoundsToNearestEven) {
  const auto bits = [](double v) { return float_to_bf16(static_cast<float>(v)); };
  // Halfway between 1 (0x3F80) and 1 + 2^-7 (0x3F81): to the even code.
  EXPECT_EQ(bits(1.0 + std::ldexp(1.0, -8)), 0x3F80);
  // Halfway between 0x3F81 and 0x3F82: to the even code, upwards this time.
  EXPECT_EQ(bits(1.0 + 3 * std::ldexp(1.0, -8)), 0x3F82);
  // Just above and below a tie.
  EXPECT_EQ(bits(1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -20)), 0x3F81);
  EXPECT_EQ(bits(1.0 + std::ldexp(1.0, -8) - std::ldexp(1.0, -20)), 0x3F80);
  EXPECT_EQ(bits(-(1.0 + std::ldexp(1.0, -8))), 0xBF80);
  EXPECT_EQ(bits(-(1.0 + 3 * std::ldexp(1.0, -8))), 0xBF82);
  // Ties among subnormals: 1.5 and 2.5 units of 2^-133.
  EXPECT_EQ(float_to_bf16(std::ldexp(1.5f, -133)), 0x0002);
  EXPECT_EQ(float_to_bf16(std::ldexp(2.5f, -133)), 0x0002);
  // Past the largest finite value's upper half-ulp: infinity.
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::max()), 0x7F80);
  EXPECT_EQ(bits(inf), 0x7F80);
  EXPECT_EQ(bits(-inf), 0xFF80);
  EXPECT_EQ(bits(-0.0), 0x8000);
  // NaN stays NaN, including a signalling pattern whose payload sits in the dropped low bits.
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::bit_cast<float>(0x7F800001u)))));
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  // Every non-NaN code survives a round trip.
  for (std::uint32_t code = 0; code < 65536; ++code) {
    const float value = bf16_to_float(static_cast<std::uint16_t>(code));
    if (!std::isnan(value)) {
      ASSERT_EQ(float_to_bf16(value), code) << code;
    }
  }
}

TEST(Dtype, F16EncodingRoundsToNearestEven) {
  const auto bits = [](double v) { return float_to_f16(static_cast<float>(v)); };
  EXPECT_EQ(bits(1.0 + std::ldexp(1.0, -11)), 0x3C00);      // tie → even (down)
  EXPECT_EQ(bits(1.0 + 3 * std::ldexp(1.0, -11)), 0x3C02);  // tie → even (up)
  EXPECT_EQ(bits(1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -23)), 0x3C01);
  EXPECT_EQ(bits(-(1.0 + std::ldexp(1.0, -11))), 0xBC00);
  // Subnormal ties: 0.5, 1.5 and 2.5 units of 2^-24.
  EXPECT_EQ(bits(std::ldexp(0.5, -24)), 0x0000);
  EXPECT_EQ(bits(std::ldexp(1.5, -24)), 0x0002);
  EXPECT_EQ(bits(std::ldexp(2.5, -24)), 0x0002);
  EXPECT_EQ(bits(-std::ldexp(0.5, -24)), 0x8000);  // keeps the sign of a zero result
  // 1023.5 units: tie between the largest subnormal and the smallest normal (even).
  EXPECT_EQ(bits(std::ldexp(1023.5, -24)), 0x0400);
  // Near the top: 65519 rounds down to max, 65520 is the tie with 2^16 and goes to infinity.
  EXPECT_EQ(bits(65504.0), 0x7BFF);
  EXPECT_EQ(bits(65519.0), 0x7BFF);
  EXPECT_EQ(bits(65520.0), 0x7C00);
  EXPECT_EQ(bits(-65520.0), 0xFC00);
  EXPECT_EQ(bits(1e10), 0x7C00);
  EXPECT_EQ(bits(inf), 0x7C00);
  EXPECT_EQ(bits(-0.0), 0x8000);
  EXPECT_TRUE(std::isnan(f16_to_float(bits(nan))));
  for (std::uint32_t code = 0; code < 65536; ++code) {
    const float value = f16_to_float(static_cast<std::uint16_t>(code));
    if (!std::isnan(value)) {
      ASSERT_EQ(float_to_f16(value), code) << code;
    }
  }
}

TEST(Dtype, F8EncodingRoundsToNearestEvenAndSaturates) {
  // E4M3: 1.0 = 0x38, 1.125 = 0x39, 1.25 = 0x3A.
  EXPECT_EQ(float_to_f8_e4m3(1.0625f), 0x38);  // tie → even
  EXPECT_EQ(float_to_f8_e4m3(1.1875f), 0x3A);  // tie → even
  EXPECT_EQ(float_to_f8_e4m3(1.07f), 0x39);
  EXPECT_EQ(float_to_f8_e4m3(-1.0625f), 0xB8);
  EXPECT_EQ(float_to_f8_e4m3(464.0f), 0x7E);  // saturates to 448
  EXPECT_EQ(float_to_f8_e4m3(1e6f), 0x7E);
  EXPECT_EQ(float_to_f8_e4m3(-1e6f), 0xFE);
  EXPECT_EQ(float_to_f8_e4m3(std::numeric_limits<float>::infinity()), 0x7E);
  EXPECT_TRUE(std::isnan(f8_e4m3_to_float(float_to_f8_e4m3(std::numeric_limits<float>::quiet_NaN()))));
  // E5M2: 1.0 = 0x3C, 1.25 = 0x3D, 1.5 = 0x3E.
  EXPECT_EQ(float_to_f8_e5m2(1.125f), 0x3C);
  EXPECT_EQ(float_to_f8_e5m2(1.375f), 0x3E);
  EXPECT_EQ(float_to_f8_e5m2(std::numeric_limits<float>::infinity()), 0x7C);
  EXPECT_EQ(float_to_f8_e5m2(-std::numeric_limits<float>::infinity()), 0xFC);
  EXPECT_TRUE(std::isnan(f8_e5m2_to_float(float_to_f8_e5m2(std::numeric_limits<float>::quiet_NaN()))));
  for (int code = 0; code < 256; ++code) {
    const float e4m3 = f8_e4m3_to_float(static_cast<std::uint8_t>(code));
    if (!std::isnan(e4m3)) {
      EXPECT_EQ(float_to_f8_e4m3(e4m3), code);
    }
    const float e5m2 = f8_e5m2_to_float(static_cast<std::uint8_t>(code));
    if (!std::isnan(e5m2)) {
      EXPECT_EQ(float_to_f8_e5m2(e5m2), code);
    }
  }
}

// Every finite value of the narrow type is some value of the wide type.
bool every_value_fits(dtype narrow, dtype wide) {
  std::set<double> wide_values;
  if (dtype_size(wide) <= 2) {
    const std::uint32_t codes = dtype_size(wide) == 1 ? 256u : 65536u;
    for (std::uint32_t code = 0; code < codes; ++code) wide_values.insert(reference_decode(wide, code));
  }
  const std::uint32_t codes = dtype_size(narrow) == 1 ? 256u : 65536u;
  for (std::uint32_t code = 0; code < codes; ++code) {
    const double value = reference_decode(narrow, code);
    if (!std::isfinite(value)) continue;
    const bool fits = wide == dtype::f64 || (wide == dtype::f32 && double(float(value)) == value) ||
                      wide_values.contains(value);
    if (!fits) return false;
  }
  return true;
}

TEST(Dtype, WidensExactlyAgreesWithTheValueSets) {
  for (const dtype narrow : all_dtypes)
    for (const dtype wide : all_dtypes) {
      if (dtype_size(narrow) > 2) continue;  // F32/F64 as narrow: checked by the table below
      EXPECT_EQ(widens_exactly(narrow, wide), every_value_fits(narrow, wide))
          << dtype_name(narrow) << " -> " << dtype_name(wide);
    }
  EXPECT_TRUE(widens_exactly(dtype::f32, dtype::f64));
  EXPECT_TRUE(widens_exactly(dtype::f32, dtype::f32));
  EXPECT_FALSE(widens_exactly(dtype::f64, dtype::f32));
  EXPECT_FALSE(widens_exactly(dtype::f32, dtype::bf16));
  EXPECT_FALSE(widens_exactly(dtype::f32, dtype::f16));
  EXPECT_FALSE(widens_exactly(dtype::f16, dtype::bf16));
  EXPECT_FALSE(widens_exactly(dtype::bf16, dtype::f16));
  EXPECT_FALSE(widens_exactly(dtype::f8_e4m3, dtype::f8_e5m2));
  EXPECT_FALSE(widens_exactly(dtype::f8_e5m2, dtype::f8_e4m3));
}

TEST(Dtype, CommonDtype) {
  EXPECT_EQ(common_dtype(dtype::bf16, dtype::f32), dtype::f32);
  EXPECT_EQ(common_dtype(dtype::f16, dtype::bf16), dtype::f32);
  EXPECT_EQ(common_dtype(dtype::f8_e4m3, dtype::bf16), dtype::bf16);
  EXPECT_EQ(common_dtype(dtype::f8_e5m2, dtype::f16), dtype::f16);
  EXPECT_EQ(common_dtype(dtype::f8_e4m3, dtype::f8_e5m2), dtype::f32);
  EXPECT_EQ(common_dtype(dtype::f64, dtype::f32), dtype::f64);
  EXPECT_EQ(common_dtype(dtype::bf16, dtype::f64), dtype::f64);
  for (const dtype a : all_dtypes) {
    EXPECT_EQ(common_dtype(a, a), a);
    for (const dtype b : all_dtypes) {
      const dtype c = common_dtype(a, b);
      EXPECT_EQ(c, common_dtype(b, a)) << dtype_name(a) << ", " << dtype_name(b);
      // Both sides convert to the common type without loss, so comparing bits there is fair.
      EXPECT_TRUE(widens_exactly(a, c) && widens_exactly(b, c)) << dtype_name(a) << ", " << dtype_name(b);
      if (a == dtype::f64 || b == dtype::f64) {
        EXPECT_EQ(c, dtype::f64);
      }
    }
  }
}

}  // namespace
}  // namespace lineage
