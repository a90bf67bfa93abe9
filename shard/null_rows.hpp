#pragma once
// The rows of one side of a null, decoded to float: all at once when they fit a byte limit,
// otherwise one at a time as they are visited. B's rows may come through an alignment (rows in A's
// order unless `reorder_rows` is false, columns in A's order, sign flips); either way a row decodes
// to the same floats, so the samples do not depend on the limit. Internal to the null's sources.
#include <cstddef>
#include <cstdint>
#include <span>
#include <memory>
#include <vector>

#include "core/dtype.hpp"
#include "shard/byte_source.hpp"
#include "shard/work_block.hpp"

namespace lineage {

// ‖row ∘ fold‖ in double (‖row‖ when fold is empty): a slice's norm for the direction statistic.
[[nodiscard]] double folded_norm(const float* row, std::span<const float> fold, std::size_t length);
// folded_norm of rows[0 … count), into out: four rows at a time, four independent sums (one sum
// alone waits on its own additions), each with folded_norm's operations in its order (its bits).
void folded_norms(const float* const* rows, std::size_t count, std::span<const float> fold, std::size_t length,
                  double* out);

class null_rows {
 public:
  null_rows(byte_source& bytes, dtype type, std::uint64_t rows, std::uint64_t length, const b_alignment* alignment,
            bool reorder_rows, std::uint64_t float_limit);

  [[nodiscard]] bool finite() const noexcept { return finite_; }
  // Whether every row is decoded at once (else one at a time as visited).
  [[nodiscard]] bool whole() const noexcept { return whole_ != nullptr; }
  [[nodiscard]] std::size_t length() const noexcept { return length_; }
  // Asks the cache for row r's floats [first, first + count) (the whole row by default) when the
  // rows are decoded at once; nothing otherwise.
  void prefetch(std::uint64_t r, std::size_t first = 0, std::size_t count = SIZE_MAX) const;
  // Rows [r, r + count)'s bytes in the tensor's dtype (valid until the next read of this source).
  const std::byte* raw_rows(std::uint64_t r, std::uint64_t count);
  // Row r as floats (valid until the next call when rows are decoded one at a time).
  const float* row(std::uint64_t r);
  // folded_norm of rows which[0 …] (four at a time when the rows are decoded at once).
  [[nodiscard]] std::vector<double> norms(std::span<const std::uint32_t> which, std::span<const float> fold);
  [[nodiscard]] dtype type() const noexcept { return type_; }

 private:
  byte_source& bytes_;
  dtype type_;
  std::size_t size_;
  std::uint64_t rows_;
  std::size_t length_;
  const b_alignment* alignment_;
  bool reorder_rows_;
  std::vector<std::byte> gathered_;
  std::unique_ptr<float[]> whole_;  // every row decoded (not zeroed first: decoding writes it all)
  std::vector<float> scratch_;
  bool finite_ = true;
};

}  // namespace lineage
