#pragma once
// Facts about this process that the report's manifest records: its host and its resident memory
// (as the memory budget and the per-rank table of the report count it).
#include <cstdint>
#include <string>

namespace lineage {

// The largest resident set this process has had (getrusage RUSAGE_SELF ru_maxrss, in bytes).
[[nodiscard]] std::uint64_t peak_resident_bytes() noexcept;

// The resident set now (/proc/self/statm), or 0 where that file cannot be read.
[[nodiscard]] std::uint64_t current_resident_bytes() noexcept;

// The allocator's policy for the large buffers the nulls and matchings decode whole tensors into,
// one after another: by default glibc maps each afresh and unmaps it when freed, so every tensor
// pays its page faults again (about a tenth of a default compare, docs/PERFORMANCE.md). Called once
// at start-up, this serves them from the heap and keeps freed memory there for the next tensor; the
// peak resident set stays the largest live set.
void keep_freed_memory() noexcept;

// Returns the heap's free memory to the system (malloc_trim), so that the resident set measured
// next (the baseline of the memory budget) counts what is live, not what setup freed.
void release_freed_memory() noexcept;

// The machine's physical memory (sysconf), or 0 where it cannot be told.
[[nodiscard]] std::uint64_t physical_memory_bytes() noexcept;

// gethostname(), or "unknown".
[[nodiscard]] std::string host_name();

}  // namespace lineage
