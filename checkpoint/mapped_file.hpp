#pragma once
// Read-only memory maps of checkpoint files. A rank maps only the byte ranges of its blocks
// (page-aligned windows), so resident memory follows the work, not the model size.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

#include "checkpoint/mapping_guard.hpp"

namespace lineage {

// An open, read-only file descriptor (RAII). Throws input_error naming the file when it cannot be
// opened or is not a regular file.
class read_only_file {
 public:
  explicit read_only_file(const std::filesystem::path& path);
  read_only_file(read_only_file&& other) noexcept;
  read_only_file& operator=(read_only_file&& other) noexcept;
  read_only_file(const read_only_file&) = delete;
  read_only_file& operator=(const read_only_file&) = delete;
  ~read_only_file();

  [[nodiscard]] int descriptor() const noexcept { return fd_; }
  [[nodiscard]] std::uint64_t size() const noexcept { return size_; }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  // Reads exactly `out.size()` bytes at `offset` (pread); throws input_error if the file is shorter.
  void read_exact(std::uint64_t offset, std::span<std::byte> out) const;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// A mapping of bytes [offset, offset + length) of a file. The window is widened to page
// boundaries internally; bytes() spans exactly the requested range.
class mapped_range {
 public:
  mapped_range(const read_only_file& file, std::uint64_t offset, std::uint64_t length);
  mapped_range(mapped_range&& other) noexcept;
  mapped_range& operator=(mapped_range&& other) noexcept;
  mapped_range(const mapped_range&) = delete;
  mapped_range& operator=(const mapped_range&) = delete;
  ~mapped_range();

  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return {data_, length_}; }
  // A read past the file's end after it shrank reads zeros instead of raising SIGBUS, and makes
  // the next throw_if_a_mapping_faulted() throw (checkpoint/mapping_guard.hpp).
  // Drops the mapping's resident pages (MADV_DONTNEED). The bytes stay readable: the pages fault
  // back in from the file (usually from the page cache) when touched again.
  void release() const noexcept;

 private:
  void* base_ = nullptr;
  std::size_t mapped_length_ = 0;
  const std::byte* data_ = nullptr;
  std::size_t length_ = 0;
  mapping_guard guard_;
};

}  // namespace lineage
