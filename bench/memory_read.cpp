#include "bench/memory_read.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace lineage::bench {

std::uint64_t read_two_streams_plain(const std::uint64_t* a, const std::uint64_t* b, std::size_t words) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < words; ++i) sum += a[i] ^ b[i];
  return sum;
}

#if defined(__x86_64__)
namespace {
__attribute__((target("avx2"))) std::uint64_t read_avx2(const std::uint64_t* a, const std::uint64_t* b,
                                                        std::size_t words) {
  __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
  std::size_t i = 0;
  for (; i + 16 <= words; i += 16) {
    // One prefetch per 64-byte line of each stream, 4 KiB ahead (as the kernel does).
    _mm_prefetch(reinterpret_cast<const char*>(a + i + 512), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(a + i + 520), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + i + 512), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(b + i + 520), _MM_HINT_T0);
    const auto* pa = reinterpret_cast<const __m256i*>(a + i);
    const auto* pb = reinterpret_cast<const __m256i*>(b + i);
    s0 = _mm256_add_epi64(s0, _mm256_xor_si256(_mm256_loadu_si256(pa), _mm256_loadu_si256(pb)));
    s1 = _mm256_add_epi64(s1, _mm256_xor_si256(_mm256_loadu_si256(pa + 1), _mm256_loadu_si256(pb + 1)));
    s2 = _mm256_add_epi64(s2, _mm256_xor_si256(_mm256_loadu_si256(pa + 2), _mm256_loadu_si256(pb + 2)));
    s3 = _mm256_add_epi64(s3, _mm256_xor_si256(_mm256_loadu_si256(pa + 3), _mm256_loadu_si256(pb + 3)));
  }
  alignas(32) std::uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes),
                     _mm256_add_epi64(_mm256_add_epi64(s0, s1), _mm256_add_epi64(s2, s3)));
  std::uint64_t sum = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < words; ++i) sum += a[i] ^ b[i];
  return sum;
}
}  // namespace
#endif

std::uint64_t read_two_streams_vector(const std::uint64_t* a, const std::uint64_t* b, std::size_t words) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) return read_avx2(a, b, words);
#endif
  return read_two_streams_plain(a, b, words);
}

}  // namespace lineage::bench
