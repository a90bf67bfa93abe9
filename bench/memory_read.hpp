#pragma once
// References for the statistics kernel: how fast one core can merely read two input streams.
#include <cstddef>
#include <cstdint>

namespace lineage::bench {

// A plain loop over 64-bit words of both streams (what "reading the input" costs in ordinary code).
std::uint64_t read_two_streams_plain(const std::uint64_t* a, const std::uint64_t* b, std::size_t words);

// The same with 32-byte vector loads, independent accumulators and software prefetch 4 KiB ahead
// (as the kernel does): close to what the memory system can deliver to one core.
std::uint64_t read_two_streams_vector(const std::uint64_t* a, const std::uint64_t* b, std::size_t words);

}  // namespace lineage::bench
