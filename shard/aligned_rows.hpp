#pragma once
// B's bytes in A's order: elements of A's view gathered from B's view through an alignment (B's
// rows by the row order, its columns by the column order, sign flips applied), still in B's dtype,
// so the kernels see exactly the bytes an element-aligned pair would give them.
#include <cstddef>
#include <cstdint>

#include "shard/byte_source.hpp"
#include "shard/work_block.hpp"

namespace lineage {

// Elements [first, first + count) of A's view — row q = e / row_length, column c = e mod
// row_length of the alignment's geometry — gathered from `b` (B's whole view) into `out` (count ×
// dtype size bytes). B's rows are its own (q) when `reorder_rows` is false. Reads B one row at a
// time.
void gather_aligned(byte_source& b, const b_alignment& alignment, std::uint64_t first, std::uint64_t count,
                    bool reorder_rows, std::byte* out);

}  // namespace lineage
