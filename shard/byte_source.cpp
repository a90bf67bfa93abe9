#include "shard/byte_source.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace lineage {

byte_source::byte_source(const read_only_file& file, std::uint64_t offset, std::uint64_t length,
                         const read_settings& settings, std::vector<std::byte>* buffer)
    : file_(&file), offset_(offset), length_(length), settings_(settings), shared_buffer_(buffer) {
  if (offset > file.size() || length > file.size() - offset)
    throw input_error(fmt::format(
        "{}: file is {} bytes but the plan needs bytes up to {}; was it truncated after the job started?",
        file.path().string(), file.size(), offset + length));
  if (settings_.method == read_method::map) mapping_.emplace(file, offset, length);
}

byte_source::byte_source(std::span<const std::byte> bytes) : length_(bytes.size()), memory_(bytes) {}

std::span<const std::byte> byte_source::piece(std::uint64_t begin, std::uint64_t count) {
  if (begin > length_ || count > length_ - begin)
    throw internal_error(fmt::format("byte source: piece [{}, {}) outside a range of {} bytes", begin, begin + count,
                                     length_));
  if (file_ == nullptr) return memory_.subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(count));
  if (mapping_ && (settings_.window_bytes == 0 || count >= smallest_mapped_piece)) {
    // A page fault maps the whole page-cache folio it lands in (up to 2 MiB with large folios),
    // not just the page asked for: charge every piece with the 2 MiB-aligned span it lies in.
    constexpr std::uint64_t folio = std::uint64_t{2} << 20;
    const std::uint64_t first = offset_ + begin, last = first + count;
    const std::uint64_t charge = count == 0 ? 0 : (last + folio - 1) / folio * folio - first / folio * folio;
    if (settings_.window_bytes != 0 && handed_out_ + charge > settings_.window_bytes) release();
    handed_out_ += charge;
    return mapping_->bytes().subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(count));
  }
  std::vector<std::byte>& buffer = shared_buffer_ != nullptr ? *shared_buffer_ : own_buffer_;
  if (buffer.size() < count) buffer.resize(static_cast<std::size_t>(count));
  const std::span<std::byte> piece(buffer.data(), static_cast<std::size_t>(count));
  file_->read_exact(offset_ + begin, piece);
  return piece;
}

void byte_source::release() noexcept {
  if (mapping_) mapping_->release();
  handed_out_ = 0;
}

}  // namespace lineage
