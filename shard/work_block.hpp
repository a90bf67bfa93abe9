#pragma once
// One unit of work: a run of element-aligned pairs of one tensor pair, located in the files of
// model A and model B. Blocks have a fixed element count (the last block of a tensor may be
// shorter) so that their boundaries, and hence every partial sum, do not depend on the rank count.
#include <cstdint>
#include <vector>

#include "core/dtype.hpp"

namespace lineage {

struct element_location {
  std::uint32_t file = 0;         // index into the model's file table
  std::uint64_t byte_offset = 0;  // absolute offset of the block's first element
  dtype type = dtype::f32;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & file & byte_offset & type;
  }
};

// How B's elements meet A's when B's rows or columns are in another order (a recovered
// hidden-dimension permutation, a router's rows in matched expert order): element (q, c) of A's
// view — row q, column c of a rows × row_length matrix (a vector is one row) — meets element
// (row_order[q], column_order[c]) of B's view, which starts at `b`. An empty order is the identity.
// An entry of a row or column order of B (b_alignment, and the row and column lists the matching
// units read B through) may carry a sign: bit 31 set means the value is read negated, a recovered
// sign flip of a hidden dimension. Negating flips the sign bit, exact in every dtype lineage reads
// (all are IEEE-style floats). Tensors have fewer than 2³¹ rows and columns.
inline constexpr std::uint32_t negated_entry = 0x80000000u;
[[nodiscard]] constexpr std::uint32_t index_of(std::uint32_t entry) noexcept { return entry & ~negated_entry; }
[[nodiscard]] constexpr bool is_negated(std::uint32_t entry) noexcept { return (entry & negated_entry) != 0; }

struct b_alignment {
  element_location b;
  std::uint64_t rows = 0, row_length = 0;  // B's view
  std::vector<std::uint32_t> row_order, column_order;

  [[nodiscard]] std::uint64_t row_of(std::uint64_t q) const { return row_order.empty() ? q : row_order[q]; }

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & b & rows & row_length & row_order & column_order;
  }
};

struct work_block {
  std::uint32_t pair = 0;         // index of the tensor pair in the plan
  std::uint64_t first_element = 0;
  std::uint64_t elements = 0;
  element_location a, b;
  // Index into work_plan::alignments, or −1: B's elements are the `elements` from `b` on.
  std::int32_t alignment = -1;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & pair & first_element & elements & a & b & alignment;
  }
};

}  // namespace lineage
