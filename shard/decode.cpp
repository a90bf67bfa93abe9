#include "shard/decode.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace lineage {
namespace {

// One dtype's loop, the type decided once per call: `value` decodes element i, and finiteness is
// tested on the float bits (exponent all ones), branch-free so that the loop vectorises.
template <typename Value>
bool decode_run(std::size_t count, float* out, const Value& value) {
  std::uint32_t special = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const float v = value(i);
    special |= static_cast<std::uint32_t>((std::bit_cast<std::uint32_t>(v) & 0x7f800000u) == 0x7f800000u);
    out[i] = v;
  }
  return special == 0;
}

}  // namespace

bool decode_to_float(const std::byte* src, dtype type, std::size_t count, float* out) {
  switch (type) {
    case dtype::f64: {
      bool finite = true;
      for (std::size_t i = 0; i < count; ++i) {
        double d;
        std::memcpy(&d, src + i * 8, 8);
        out[i] = static_cast<float>(d);
        finite = finite && std::isfinite(d) && std::isfinite(out[i]);
      }
      return finite;
    }
    case dtype::f32:
      return decode_run(count, out, [&](std::size_t i) {
        float v;
        std::memcpy(&v, src + i * 4, 4);
        return v;
      });
    case dtype::bf16:
      return decode_run(count, out, [&](std::size_t i) {
        std::uint16_t bits;
        std::memcpy(&bits, src + i * 2, 2);
        return bf16_to_float(bits);
      });
    case dtype::f16: {
      const float* table = f16_table();
      return decode_run(count, out, [&](std::size_t i) {
        std::uint16_t bits;
        std::memcpy(&bits, src + i * 2, 2);
        return table[bits];
      });
    }
    case dtype::f8_e4m3: {
      const float* table = f8_e4m3_table();
      return decode_run(count, out, [&](std::size_t i) { return table[static_cast<std::uint8_t>(src[i])]; });
    }
    case dtype::f8_e5m2: {
      const float* table = f8_e5m2_table();
      return decode_run(count, out, [&](std::size_t i) { return table[static_cast<std::uint8_t>(src[i])]; });
    }
  }
  std::fill_n(out, count, 0.0f);  // not a dtype: unreachable for a parsed header
  return false;
}

}  // namespace lineage
