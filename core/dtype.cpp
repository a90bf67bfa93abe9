#include "core/dtype.hpp"

#include <array>
#include <cmath>
#include <limits>

namespace lineage {

std::optional<dtype> parse_dtype(std::string_view name) noexcept {
  for (dtype t : all_dtypes)
    if (dtype_name(t) == name) return t;
  return std::nullopt;
}

std::string_view dtype_name(dtype t) noexcept {
  switch (t) {
    case dtype::f64: return "F64";
    case dtype::f32: return "F32";
    case dtype::f16: return "F16";
    case dtype::bf16: return "BF16";
    case dtype::f8_e4m3: return "F8_E4M3";
    case dtype::f8_e5m2: return "F8_E5M2";
  }
  return "?";
}

std::size_t dtype_size(dtype t) noexcept {
  switch (t) {
    case dtype::f64: return 8;
    case dtype::f32: return 4;
    case dtype::f16:
    case dtype::bf16: return 2;
    case dtype::f8_e4m3:
    case dtype::f8_e5m2: return 1;
  }
  return 0;
}

namespace {
// (exponent bits, mantissa bits) of each type; lossless widening needs both to fit.
struct format_bits {
  int exponent;
  int mantissa;
};
format_bits bits_of(dtype t) noexcept {
  switch (t) {
    case dtype::f64: return {11, 52};
    case dtype::f32: return {8, 23};
    case dtype::f16: return {5, 10};
    case dtype::bf16: return {8, 7};
    case dtype::f8_e4m3: return {4, 3};
    case dtype::f8_e5m2: return {5, 2};
  }
  return {0, 0};
}
}  // namespace

bool widens_exactly(dtype narrow, dtype wide) noexcept {
  const auto n = bits_of(narrow);
  const auto w = bits_of(wide);
  // A wider exponent also covers the narrow type's subnormals for every pair that occurs here.
  return n.exponent <= w.exponent && n.mantissa <= w.mantissa;
}

dtype common_dtype(dtype a, dtype b) noexcept {
  if (widens_exactly(a, b)) return b;
  if (widens_exactly(b, a)) return a;
  return (a == dtype::f64 || b == dtype::f64) ? dtype::f64 : dtype::f32;
}

float f16_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1Fu;
  const std::uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
  if (exponent == 0) {
    // Zero or subnormal: value = mantissa * 2^-24, exact in float.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

float f8_e4m3_to_float(std::uint8_t v) noexcept {
  const bool negative = (v & 0x80u) != 0;
  const int exponent = (v >> 3) & 0xF;
  const int mantissa = v & 0x7;
  float magnitude;
  if (exponent == 0xF && mantissa == 0x7) {
    magnitude = std::numeric_limits<float>::quiet_NaN();
  } else if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -9);  // subnormal: m/8 * 2^-6
  } else {
    magnitude = std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
  }
  return negative ? -magnitude : magnitude;
}

float f8_e5m2_to_float(std::uint8_t v) noexcept {
  // E5M2 is the top byte of an F16.
  return f16_to_float(static_cast<std::uint16_t>(static_cast<unsigned>(v) << 8));
}

namespace {
template <std::size_t N, typename Decode>
std::array<float, N> make_table(Decode decode) {
  std::array<float, N> table{};
  for (std::size_t i = 0; i < N; ++i) table[i] = decode(i);
  return table;
}
}  // namespace

const float* f8_e4m3_table() noexcept {
  static const auto table =
      make_table<256>([](std::size_t i) { return f8_e4m3_to_float(static_cast<std::uint8_t>(i)); });
  return table.data();
}
const float* f8_e5m2_table() noexcept {
  static const auto table =
      make_table<256>([](std::size_t i) { return f8_e5m2_to_float(static_cast<std::uint8_t>(i)); });
  return table.data();
}
const float* f16_table() noexcept {
  static const auto table = make_table<65536>(
      [](std::size_t i) { return f16_to_float(static_cast<std::uint16_t>(i)); });
  return table.data();
}

std::uint16_t float_to_bf16(float value) noexcept {
  std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x40u);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(bits >> 16);
}

std::uint16_t float_to_f16(float value) noexcept {
  const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  const std::uint16_t sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const std::uint32_t abs_bits = bits & 0x7FFFFFFFu;
  if (abs_bits > 0x7F800000u) return static_cast<std::uint16_t>(sign | 0x7E00u);
  if (abs_bits >= 0x477FF000u) return static_cast<std::uint16_t>(sign | 0x7C00u);  // rounds to inf
  const float magnitude = std::bit_cast<float>(abs_bits);
  if (magnitude < 6.103515625e-05f) {
    // Subnormal range: quantise to multiples of 2^-24 with ties to even (nearbyint honours the
    // default rounding mode, round-to-nearest-even).
    const float scaled = std::nearbyint(std::ldexp(magnitude, 24));
    return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(scaled));
  }
  std::uint32_t rounded = abs_bits + 0xFFFu + ((abs_bits >> 13) & 1u);
  rounded -= 112u << 23;  // rebias the exponent from 127 to 15
  return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(rounded >> 13));
}

namespace {
// Nearest representable value by search over the finite codes (ties to the even code); the 8-bit
// encoders are only used to write test fixtures, so clarity beats speed here.
std::uint8_t nearest_code(float value, const float* table, bool has_infinity) {
  if (std::isnan(value)) return 0x7F;
  const bool negative = std::signbit(value);
  const float magnitude = std::fabs(value);
  int best = 0;
  float best_distance = std::numeric_limits<float>::infinity();
  for (int code = 0; code < 128; ++code) {
    const float candidate = table[code];
    if (!std::isfinite(candidate)) continue;
    const float distance = std::fabs(candidate - magnitude);
    if (distance < best_distance || (distance == best_distance && (code & 1) == 0)) {
      best = code;
      best_distance = distance;
    }
  }
  if (has_infinity && std::isinf(magnitude)) best = 0x7C;
  return static_cast<std::uint8_t>(best | (negative ? 0x80 : 0));
}
}  // namespace

std::uint8_t float_to_f8_e4m3(float value) noexcept {
  return nearest_code(value, f8_e4m3_table(), false);
}
std::uint8_t float_to_f8_e5m2(float value) noexcept {
  return nearest_code(value, f8_e5m2_table(), true);
}

}  // namespace lineage
