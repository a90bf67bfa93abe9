#include "shard/block_compute.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/content_hash.hpp"
#include "core/error.hpp"
#include "shard/decode.hpp"
#include "shard/kernel.hpp"

namespace lineage {

block_reader::block_reader(std::vector<std::filesystem::path> files_a,
                           std::vector<std::filesystem::path> files_b) {
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

mapped_range block_reader::map(int side, const element_location& location, std::uint64_t elements) {
  const read_only_file& file = open(side, location.file);
  const std::uint64_t bytes = elements * dtype_size(location.type);
  if (location.byte_offset + bytes > file.size())
    throw input_error(fmt::format(
        "{}: file is {} bytes but the plan needs bytes up to {}; was it truncated after the job "
        "started?",
        file.path().string(), file.size(), location.byte_offset + bytes));
  return mapped_range(file, location.byte_offset, bytes);
}

namespace {

// B's elements [first, first + count) of A's view (row q = e / row_length, column c = e mod
// row_length) gathered from B's view bytes by `alignment`, in B's dtype (so the kernel sees exactly
// the bytes an element-aligned pair would give it). Rows are B's own when `reorder_rows` is false.
std::vector<std::byte> gather(std::span<const std::byte> b, std::size_t size, const b_alignment& alignment,
                              std::uint64_t first, std::uint64_t count, bool reorder_rows) {
  const std::uint64_t length = alignment.row_length;
  if (length == 0 || (!alignment.column_order.empty() && alignment.column_order.size() != length))
    throw internal_error("aligned read: malformed alignment");
  std::vector<std::byte> out(static_cast<std::size_t>(count) * size);
  for (std::uint64_t done = 0; done < count;) {
    const std::uint64_t element = first + done, q = element / length, c0 = element % length;
    const std::uint64_t take = std::min(length - c0, count - done);
    const auto row_entry = static_cast<std::uint32_t>(reorder_rows ? alignment.row_of(q) : q);
    const std::uint64_t row = index_of(row_entry);
    if (row >= alignment.rows) throw internal_error("aligned read: a row lies outside B's tensor");
    const std::byte* source = b.data() + row * length * size;
    std::byte* target = out.data() + done * size;
    for (std::uint64_t c = c0; c < c0 + take; ++c, target += size) {
      const auto entry = alignment.column_order.empty() ? static_cast<std::uint32_t>(c) : alignment.column_order[c];
      const std::uint64_t column = index_of(entry);
      if (column >= length) throw internal_error("aligned read: a column lies outside B's tensor");
      std::memcpy(target, source + column * size, size);
      if (is_negated(row_entry) != is_negated(entry)) target[size - 1] ^= std::byte{0x80};  // the sign bit
    }
    done += take;
  }
  return out;
}

}  // namespace

bool block_reader::read_rows(int side, const element_location& first, std::uint64_t row_length,
                             std::span<const std::uint32_t> rows, std::span<const std::uint32_t> columns, float* out) {
  if (rows.empty()) return true;
  std::uint32_t low = index_of(rows.front()), high = low;
  for (const std::uint32_t r : rows) low = std::min(low, index_of(r)), high = std::max(high, index_of(r));
  const std::size_t size = dtype_size(first.type);
  element_location start = first;
  start.byte_offset += low * row_length * size;
  const mapped_range bytes = map(side, start, (high - low + 1) * row_length);
  bool finite = true;
  // A column entry with its sign bit set is ≥ 2³¹ > row_length: such lists are never contiguous.
  bool contiguous = !columns.empty() && columns.back() < row_length;
  for (std::size_t k = 1; k < columns.size() && contiguous; ++k) contiguous = columns[k] == columns[0] + k;
  std::vector<float> whole(columns.empty() || contiguous ? 0 : static_cast<std::size_t>(row_length));
  for (const std::uint32_t r : rows) {
    const std::byte* row = bytes.bytes().data() + (index_of(r) - low) * row_length * size;
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
  const mapped_range range_a = map(0, block.a, block.elements);
  if (hashes != nullptr) hashes->a = fast_hash(range_a.bytes());
  if (alignment == nullptr) {
    const mapped_range range_b = map(1, block.b, block.elements);
    if (hashes != nullptr) hashes->b = fast_hash(range_b.bytes()), hashes->b_hashed = true;
    return compute_block_sums({range_a.bytes().data(), block.a.type},
                              {range_b.bytes().data(), block.b.type}, block.elements);
  }
  const mapped_range range_b = map(1, alignment->b, alignment->rows * alignment->row_length);
  const std::vector<std::byte> aligned = gather(range_b.bytes(), dtype_size(alignment->b.type), *alignment,
                                                block.first_element, block.elements, true);
  return compute_block_sums({range_a.bytes().data(), block.a.type}, {aligned.data(), alignment->b.type},
                            block.elements);
}

null_samples block_reader::compute(const null_request& request, const b_alignment* alignment,
                                   const norm_source* norm) {
  std::vector<float> norm_a, norm_b;
  if (norm != nullptr) {
    norm_a.resize(static_cast<std::size_t>(norm->elements));
    norm_b.resize(norm_a.size());
    const std::vector<std::uint32_t> first_row{0};
    const std::span<const std::uint32_t> in_order;
    bool finite = read_rows(0, norm->a, norm->elements, first_row, in_order, norm_a.data());
    finite = read_rows(1, norm->b, norm->elements, first_row,
                       norm->alignment != nullptr ? std::span<const std::uint32_t>(norm->alignment->column_order)
                                                  : in_order,
                       norm_b.data()) &&
             finite;
    if (!finite) norm_a.clear(), norm_b.clear();  // a non-finite norm: directions unfolded
  }
  const mapped_range range_a = map(0, request.a, request.elements_a());
  const mapped_range range_b = map(1, request.b, request.elements_b());
  if (alignment == nullptr) return compute_permutation_null(request, range_a.bytes(), range_b.bytes(), norm_a, norm_b);
  const std::vector<std::byte> aligned = gather(range_b.bytes(), dtype_size(request.b.type), *alignment, 0,
                                                request.elements_b(), !request.explicit_pairs());
  return compute_permutation_null(request, range_a.bytes(), aligned, norm_a, norm_b);
}

}  // namespace lineage
