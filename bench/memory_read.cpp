#include "bench/memory_read.hpp"

#include <cstring>

namespace lineage::bench {

std::uint64_t read_two_streams_plain(const std::uint64_t* a, const std::uint64_t* b, std::size_t words) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < words; ++i) sum += a[i] ^ b[i];
  return sum;
}

std::uint64_t read_two_streams_vector(const std::uint64_t* a, const std::uint64_t* b, std::size_t words) {
  using v4u = std::uint64_t __attribute__((vector_size(32)));
  v4u s0{}, s1{}, s2{}, s3{};
  std::size_t i = 0;
  for (; i + 16 <= words; i += 16) {
    v4u x[4], y[4];
    std::memcpy(x, a + i, sizeof x);
    std::memcpy(y, b + i, sizeof y);
    s0 += x[0] ^ y[0];
    s1 += x[1] ^ y[1];
    s2 += x[2] ^ y[2];
    s3 += x[3] ^ y[3];
  }
  const v4u s = (s0 + s1) + (s2 + s3);
  std::uint64_t sum = s[0] + s[1] + s[2] + s[3];
  for (; i < words; ++i) sum += a[i] ^ b[i];
  return sum;
}

}  // namespace lineage::bench
