#include "shard/aligned_rows.hpp"

#include <algorithm>
#include <cstring>

#include "core/error.hpp"

namespace lineage {

void gather_aligned(byte_source& b, const b_alignment& alignment, std::uint64_t first, std::uint64_t count,
                    bool reorder_rows, std::byte* out) {
  const std::uint64_t length = alignment.row_length;
  if (length == 0 || (!alignment.column_order.empty() && alignment.column_order.size() != length))
    throw internal_error("aligned read: malformed alignment");
  const std::size_t size = dtype_size(alignment.b.type);
  for (std::uint64_t done = 0; done < count;) {
    const std::uint64_t element = first + done, q = element / length, c0 = element % length;
    const std::uint64_t take = std::min(length - c0, count - done);
    const auto row_entry = static_cast<std::uint32_t>(reorder_rows ? alignment.row_of(q) : q);
    const std::uint64_t row = index_of(row_entry);
    if (row >= alignment.rows) throw internal_error("aligned read: a row lies outside B's tensor");
    const std::byte* source = b.piece(row * length * size, length * size).data();
    for (std::uint64_t c = c0; c < c0 + take; ++c, out += size) {
      const auto entry = alignment.column_order.empty() ? static_cast<std::uint32_t>(c) : alignment.column_order[c];
      const std::uint64_t column = index_of(entry);
      if (column >= length) throw internal_error("aligned read: a column lies outside B's tensor");
      std::memcpy(out, source + column * size, size);
      if (is_negated(row_entry) != is_negated(entry)) out[size - 1] ^= std::byte{0x80};  // the sign bit
    }
    done += take;
  }
}

}  // namespace lineage
