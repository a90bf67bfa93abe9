#include "shard/block_compute.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/content_hash.hpp"
#include "core/error.hpp"
#include "shard/aligned_rows.hpp"
#include "shard/decode.hpp"
#include "shard/kernel.hpp"

namespace lineage {

block_reader::block_reader(std::vector<std::filesystem::path> files_a,
                           std::vector<std::filesystem::path> files_b, const read_settings& settings)
    : settings_(settings) {
  paths_[0] = std::move(files_a);
  paths_[1] = std::move(files_b);
  open_[0].resize(paths_[0].size());
  open_[1].resize(paths_[1].size());
}

const read_only_file& block_reader::open(int side, std::uint32_t index) {
  auto& slot = open_[side].at(index);
  if (!slot) slot = std::make_unique<read_only_file>(paths_[side].at(index));
  return *slot;
}

byte_source block_reader::source(int side, const element_location& location, std::uint64_t elements) {
  return {open(side, location.file), location.byte_offset, elements * dtype_size(location.type), settings_,
          &buffers_[side]};
}

bool block_reader::read_rows(int side, const element_location& first, std::uint64_t row_length,
                             std::span<const std::uint32_t> rows, std::span<const std::uint32_t> columns, float* out) {
  if (rows.empty()) return true;
  std::uint32_t low = index_of(rows.front()), high = low;
  for (const std::uint32_t r : rows) low = std::min(low, index_of(r)), high = std::max(high, index_of(r));
  const std::size_t size = dtype_size(first.type);
  element_location start = first;
  start.byte_offset += low * row_length * size;
  byte_source bytes = source(side, start, (high - low + 1) * row_length);
  bool finite = true;
  // A column entry with its sign bit set is ≥ 2³¹ > row_length: such lists are never contiguous.
  bool contiguous = !columns.empty() && columns.back() < row_length;
  for (std::size_t k = 1; k < columns.size() && contiguous; ++k) contiguous = columns[k] == columns[0] + k;
  std::vector<float> whole(columns.empty() || contiguous ? 0 : static_cast<std::size_t>(row_length));
  for (const std::uint32_t r : rows) {
    const std::byte* row = bytes.piece((index_of(r) - low) * row_length * size, row_length * size).data();
    float* const row_out = out;
    if (columns.empty()) {
      finite = decode_to_float(row, first.type, static_cast<std::size_t>(row_length), out) && finite;
      out += row_length;
    } else if (contiguous) {  // one segment of the row: decode just that
      finite = decode_to_float(row + columns.front() * size, first.type, columns.size(), out) && finite;
      out += columns.size();
    } else {
      finite = decode_to_float(row, first.type, whole.size(), whole.data()) && finite;
      for (const std::uint32_t c : columns) {
        if (index_of(c) >= row_length) throw internal_error("read_rows: a column lies outside the tensor");
        *out++ = is_negated(c) ? -whole[index_of(c)] : whole[index_of(c)];
      }
    }
    if (is_negated(r))
      for (float* v = row_out; v != out; ++v) *v = -*v;
  }
  return finite;
}

kernel_sums block_reader::compute(const work_block& block, const b_alignment* alignment, range_hashes* hashes) {
  byte_source source_a = source(0, block.a, block.elements);
  const std::span<const std::byte> bytes_a = source_a.piece(0, source_a.size());
  if (hashes != nullptr) hashes->a = fast_hash(bytes_a);
  if (alignment == nullptr) {
    byte_source source_b = source(1, block.b, block.elements);
    const std::span<const std::byte> bytes_b = source_b.piece(0, source_b.size());
    if (hashes != nullptr) hashes->b = fast_hash(bytes_b), hashes->b_hashed = true;
    return compute_block_sums({bytes_a.data(), block.a.type}, {bytes_b.data(), block.b.type}, block.elements);
  }
  // B's rows that meet the block's elements of A's view, read one at a time.
  byte_source view_b = source(1, alignment->b, alignment->rows * alignment->row_length);
  std::vector<std::byte> aligned(static_cast<std::size_t>(block.elements) * dtype_size(alignment->b.type));
  gather_aligned(view_b, *alignment, block.first_element, block.elements, true, aligned.data());
  return compute_block_sums({bytes_a.data(), block.a.type}, {aligned.data(), alignment->b.type}, block.elements);
}

null_samples block_reader::compute(const null_request& request, const b_alignment* alignment,
                                   const norm_source* norm, std::span<const float> rotation) {
  std::vector<float> norm_a, norm_b, norm_b_own;
  if (norm != nullptr) {
    norm_a.resize(static_cast<std::size_t>(norm->elements));
    norm_b.resize(norm_a.size());
    norm_b_own.resize(norm_a.size());
    const std::vector<std::uint32_t> first_row{0};
    const std::span<const std::uint32_t> in_order;
    bool finite = read_rows(0, norm->a, norm->elements, first_row, in_order, norm_a.data());
    finite = read_rows(1, norm->b, norm->elements, first_row, norm->columns_b, norm_b.data()) && finite;
    finite = read_rows(1, norm->b, norm->elements, first_row, in_order, norm_b_own.data()) && finite;
    if (!finite) norm_a.clear(), norm_b.clear(), norm_b_own.clear();  // a non-finite norm: directions unfolded
  }
  byte_source bytes_a = source(0, request.a, request.elements_a());
  byte_source bytes_b = source(1, request.b, request.elements_b());
  null_reading reading{.norm_a = norm_a, .norm_b = norm_b, .alignment_b = alignment};
  reading.rotation = rotation;
  reading.norm_b_own = norm_b_own;
  if (settings_.window_bytes != 0) reading.float_limit = settings_.window_bytes;
  return compute_permutation_null(request, bytes_a, bytes_b, reading);
}

}  // namespace lineage
