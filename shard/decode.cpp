#include "shard/decode.hpp"

#include <cmath>
#include <cstring>

namespace lineage {

bool decode_to_float(const std::byte* src, dtype type, std::size_t count, float* out) {
  const std::size_t size = dtype_size(type);
  bool finite = true;
  for (std::size_t i = 0; i < count; ++i) {
    const std::byte* p = src + i * size;
    float v = 0;
    switch (type) {
      case dtype::f64: {
        double d;
        std::memcpy(&d, p, 8);
        v = static_cast<float>(d);
        finite = finite && std::isfinite(d);
        break;
      }
      case dtype::f32: std::memcpy(&v, p, 4); break;
      case dtype::bf16: {
        std::uint16_t bits;
        std::memcpy(&bits, p, 2);
        v = bf16_to_float(bits);
        break;
      }
      case dtype::f16: {
        std::uint16_t bits;
        std::memcpy(&bits, p, 2);
        v = f16_table()[bits];
        break;
      }
      case dtype::f8_e4m3: v = f8_e4m3_table()[static_cast<std::uint8_t>(*p)]; break;
      case dtype::f8_e5m2: v = f8_e5m2_table()[static_cast<std::uint8_t>(*p)]; break;
    }
    finite = finite && std::isfinite(v);
    out[i] = v;
  }
  return finite;
}

}  // namespace lineage
