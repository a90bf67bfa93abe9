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

// The machine's physical memory (sysconf), or 0 where it cannot be told.
[[nodiscard]] std::uint64_t physical_memory_bytes() noexcept;

// gethostname(), or "unknown".
[[nodiscard]] std::string host_name();

}  // namespace lineage
