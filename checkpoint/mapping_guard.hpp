#pragma once
// Surviving a checkpoint that shrinks while it is mapped. Reading a mapped page past a file's new
// end raises SIGBUS, which would kill the rank with a backtrace (pread, by contrast, just returns
// fewer bytes). Every mapping of a checkpoint range registers here; a SIGBUS handler that finds
// the faulting address inside a registered mapping puts a page of zeros there (an anonymous
// MAP_FIXED page), marks the mapping and lets the read go on. The zeros never reach a result:
// after each unit of work the caller asks throw_if_a_mapping_faulted(), which throws the
// input_error that a pread of the same file would have thrown. A SIGBUS anywhere else gets the
// default action.
#include <cstddef>
#include <filesystem>

namespace lineage {

class mapping_guard {
 public:
  mapping_guard() = default;
  // Guards [begin, begin + length) of a mapping of `file` (installs the handler on first use).
  // Throws internal_error when more mappings are live than the registry holds.
  mapping_guard(const void* begin, std::size_t length, const std::filesystem::path& file);
  mapping_guard(mapping_guard&& other) noexcept;
  mapping_guard& operator=(mapping_guard&& other) noexcept;
  mapping_guard(const mapping_guard&) = delete;
  mapping_guard& operator=(const mapping_guard&) = delete;
  ~mapping_guard();

 private:
  void reset() noexcept;
  int slot_ = -1;
};

// Throws input_error naming the first file whose mapping faulted since the last call (and forgets
// it); does nothing when none did.
void throw_if_a_mapping_faulted();

}  // namespace lineage
