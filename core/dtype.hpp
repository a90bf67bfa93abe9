#pragma once
// Floating-point element types of safetensors checkpoints and their scalar conversions.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace lineage {

enum class dtype : std::uint8_t { f64, f32, f16, bf16, f8_e4m3, f8_e5m2 };

inline constexpr dtype all_dtypes[] = {dtype::f64, dtype::f32,     dtype::f16,
                                       dtype::bf16, dtype::f8_e4m3, dtype::f8_e5m2};

// The safetensors spelling ("BF16", "F8_E4M3", ...); nullopt for anything lineage does not compare.
std::optional<dtype> parse_dtype(std::string_view safetensors_name) noexcept;
std::string_view dtype_name(dtype t) noexcept;
std::size_t dtype_size(dtype t) noexcept;

// True when every value of `narrow` is exactly representable in `wide` (so converting is lossless).
bool widens_exactly(dtype narrow, dtype wide) noexcept;
// The type both sides are converted to before they are compared bit for bit: the wider of the two
// when one widens the other exactly, otherwise F32 (or F64 when either side is F64).
dtype common_dtype(dtype a, dtype b) noexcept;

// --- decoding (exact: every value of these types is representable in float) -------------------
inline float bf16_to_float(std::uint16_t bits) noexcept {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}
float f16_to_float(std::uint16_t bits) noexcept;
float f8_e4m3_to_float(std::uint8_t bits) noexcept;  // the "fn" variant: no infinities, NaN = S.1111.111
float f8_e5m2_to_float(std::uint8_t bits) noexcept;  // IEEE-like: infinities and NaNs

// 256-entry decode tables for the 8-bit types and a 65536-entry table for F16.
const float* f8_e4m3_table() noexcept;
const float* f8_e5m2_table() noexcept;
const float* f16_table() noexcept;

// --- encoding (round to nearest, ties to even; used by the model generator) --------------------
std::uint16_t float_to_bf16(float value) noexcept;
std::uint16_t float_to_f16(float value) noexcept;
std::uint8_t float_to_f8_e4m3(float value) noexcept;  // saturates to ±448
std::uint8_t float_to_f8_e5m2(float value) noexcept;

}  // namespace lineage
