#include "synth/value_codec.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>

#include "core/error.hpp"

namespace lineage::synth {

// safetensors stores little-endian values; the generator writes host memory directly.
static_assert(std::endian::native == std::endian::little,
              "lineage synth assumes a little-endian host");

namespace {

template <typename Bits, typename Encode>
void encode_with(std::span<const float> values, std::span<std::byte> out, Encode encode) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    const Bits bits = encode(values[i]);
    std::memcpy(out.data() + i * sizeof(Bits), &bits, sizeof(Bits));
  }
}

template <typename Bits, typename Decode>
void decode_with(std::span<const std::byte> bytes, std::span<float> out, Decode decode) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    Bits bits;
    std::memcpy(&bits, bytes.data() + i * sizeof(Bits), sizeof(Bits));
    out[i] = decode(bits);
  }
}

void check_sizes(std::size_t count, std::size_t byte_count, dtype type) {
  if (count * dtype_size(type) != byte_count)
    throw internal_error("synth value codec: element count and byte length disagree");
}

}  // namespace

void encode_values(std::span<const float> values, dtype type, std::span<std::byte> out) {
  check_sizes(values.size(), out.size(), type);
  switch (type) {
    case dtype::f64:
      encode_with<double>(values, out, [](float v) { return static_cast<double>(v); });
      return;
    case dtype::f32: std::memcpy(out.data(), values.data(), out.size()); return;
    case dtype::f16: encode_with<std::uint16_t>(values, out, float_to_f16); return;
    case dtype::bf16: encode_with<std::uint16_t>(values, out, float_to_bf16); return;
    case dtype::f8_e4m3: encode_with<std::uint8_t>(values, out, float_to_f8_e4m3); return;
    case dtype::f8_e5m2: encode_with<std::uint8_t>(values, out, float_to_f8_e5m2); return;
  }
}

void decode_values(std::span<const std::byte> bytes, dtype type, std::span<float> out) {
  check_sizes(out.size(), bytes.size(), type);
  switch (type) {
    case dtype::f64:
      decode_with<double>(bytes, out, [](double v) { return static_cast<float>(v); });
      return;
    case dtype::f32: std::memcpy(out.data(), bytes.data(), bytes.size()); return;
    case dtype::f16: decode_with<std::uint16_t>(bytes, out, f16_to_float); return;
    case dtype::bf16: decode_with<std::uint16_t>(bytes, out, bf16_to_float); return;
    case dtype::f8_e4m3: decode_with<std::uint8_t>(bytes, out, f8_e4m3_to_float); return;
    case dtype::f8_e5m2: decode_with<std::uint8_t>(bytes, out, f8_e5m2_to_float); return;
  }
}

namespace {
void store_special(std::span<std::byte> out, dtype type, std::size_t index, float value) {
  const float one[1] = {value};
  const std::size_t width = dtype_size(type);
  encode_values(one, type, out.subspan(index * width, width));
}
}  // namespace

void store_nan(std::span<std::byte> out, dtype type, std::size_t index) {
  store_special(out, type, index, std::numeric_limits<float>::quiet_NaN());
}

void store_positive_infinity(std::span<std::byte> out, dtype type, std::size_t index) {
  // float_to_f8_e4m3 saturates infinity to 448, which would not be non-finite.
  const float value = type == dtype::f8_e4m3 ? std::numeric_limits<float>::quiet_NaN()
                                             : std::numeric_limits<float>::infinity();
  store_special(out, type, index, value);
}

std::string_view torch_dtype_name(dtype type) noexcept {
  switch (type) {
    case dtype::f64: return "float64";
    case dtype::f32: return "float32";
    case dtype::f16: return "float16";
    case dtype::bf16: return "bfloat16";
    case dtype::f8_e4m3: return "float8_e4m3fn";
    case dtype::f8_e5m2: return "float8_e5m2";
  }
  return "?";
}

}  // namespace lineage::synth
