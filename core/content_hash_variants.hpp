#pragma once
// The XXH3 variants fast_hash() chooses from (core/content_hash.cpp).
#include <cstddef>
#include <cstdint>

namespace lineage::detail {

// XXH3-64 (seed 0) built for AVX2; call only when the CPU has it.
std::uint64_t xxh3_avx2(const void* data, std::size_t length) noexcept;

}  // namespace lineage::detail
