#pragma once
// Converting tensor values between float and the bytes of a safetensors dtype (little-endian). The
// generator computes in float and rounds once, when encoding, to the output dtype.
#include <cstddef>
#include <span>
#include <string_view>

#include "core/dtype.hpp"

namespace lineage::synth {

// Rounds each value to `type` (nearest, ties to even). `out` holds values.size() *
// dtype_size(type).
void encode_values(std::span<const float> values, dtype type, std::span<std::byte> out);

// Decodes every element of `bytes` (exact for all types but F64, which is rounded to float).
void decode_values(std::span<const std::byte> bytes, dtype type, std::span<float> out);

// The bytes of a quiet NaN or +Inf in `type`, written at element `index` of `out`. F8_E4M3 has no
// infinity, so +Inf becomes its NaN there.
void store_nan(std::span<std::byte> out, dtype type, std::size_t index);
void store_positive_infinity(std::span<std::byte> out, dtype type, std::size_t index);

// The torch_dtype spelling used in config.json ("bfloat16", ...).
std::string_view torch_dtype_name(dtype type) noexcept;

}  // namespace lineage::synth
