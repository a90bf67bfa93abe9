#pragma once
// How a unit of work reads a range of checkpoint bytes, piece by piece, with a bounded resident
// footprint whatever the range's size:
//  - map:  the range is mapped once (address space only); pieces are pointers into it, and once
//          the pieces handed out since the last release (each counted with the 64 KiB around it
//          that a page fault maps in) exceed the window, the mapping's pages are released (MADV_DONTNEED: they stay in the page cache and fault back in if read
//          again, so earlier pointers remain valid).
//  - read: each piece is read with pread into a buffer of the source (valid until the next piece).
//  - memory: bytes already in memory (tests, and callers holding a gathered copy).
// Every piece is checked against the range; the file is checked against the range when opened.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "checkpoint/mapped_file.hpp"

namespace lineage {

enum class read_method : std::uint8_t { map, read };

// With a window, mapped pieces are at least this large (smaller ones are read with pread).
inline constexpr std::uint64_t smallest_mapped_piece = std::uint64_t{1} << 20;

struct read_settings {
  read_method method = read_method::map;
  // Bytes of one side's range a unit may keep resident at once (0: no bound; the range stays
  // mapped until the unit ends).
  std::uint64_t window_bytes = 0;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & method & window_bytes;
  }
};

class byte_source {
 public:
  // Bytes [offset, offset + length) of `file`; throws input_error naming the file when it is
  // shorter.
  // `buffer`, when given, holds the pieces read with pread instead of a buffer of the source's own
  // (a reader keeps one per side, so that consecutive units do not allocate afresh); it must
  // outlive the source and serve no other source at the same time.
  byte_source(const read_only_file& file, std::uint64_t offset, std::uint64_t length, const read_settings& settings,
              std::vector<std::byte>* buffer = nullptr);
  explicit byte_source(std::span<const std::byte> bytes);

  [[nodiscard]] std::uint64_t size() const noexcept { return length_; }

  // Bytes [begin, begin + count) of the range: valid until the next piece() of this source in read
  // mode, as long as the source in the others.
  [[nodiscard]] std::span<const std::byte> piece(std::uint64_t begin, std::uint64_t count);

  // Gives back the resident pages of a mapped range (no effect in the other modes).
  void release() noexcept;

 private:
  const read_only_file* file_ = nullptr;
  std::uint64_t offset_ = 0, length_ = 0;
  read_settings settings_;
  std::span<const std::byte> memory_;
  std::optional<mapped_range> mapping_;
  std::vector<std::byte> own_buffer_;
  std::vector<std::byte>* shared_buffer_ = nullptr;
  std::uint64_t handed_out_ = 0;  // bytes charged to mapped pieces since the last release
};

}  // namespace lineage
