#pragma once
// rotate-hidden's orthogonal matrices Q (n x n, in double) and their application to a tensor's
// values: a reader's rows w become Q w (W <- W Q^T), a writer's columns c become Q c (W <- Q W).
#include <cstdint>
#include <span>
#include <vector>

#include "synth/synth.hpp"

namespace lineage::synth {

class rotation_matrix {
 public:
  // `entries`: n * n values, row-major.
  rotation_matrix(std::uint64_t n, std::vector<double> entries);

  [[nodiscard]] std::uint64_t size() const noexcept { return n_; }
  [[nodiscard]] std::span<const double> row(std::uint64_t i) const noexcept {
    return std::span(entries_).subspan(i * n_, n_);
  }

 private:
  std::uint64_t n_;
  std::vector<double> entries_;
};

// Haar-distributed: Gram-Schmidt (twice, for orthogonality to rounding) on the columns of a
// Gaussian matrix from the stream of (seed, "derive rotate-hidden"), which is its QR
// decomposition with R's diagonal positive, the sign choice that makes Q uniform on O(n).
[[nodiscard]] rotation_matrix haar_orthogonal(std::uint64_t seed, std::uint64_t n);

// Sylvester's Hadamard matrix times random signs: Q[i][j] = (-1)^popcount(i & j) s_j / sqrt(n).
// n must be a power of two.
[[nodiscard]] rotation_matrix randomized_hadamard(std::uint64_t seed, std::uint64_t n);

[[nodiscard]] rotation_matrix make_rotation(hidden_rotation_kind kind, std::uint64_t seed, std::uint64_t n);

[[nodiscard]] constexpr bool is_power_of_two(std::uint64_t n) noexcept { return n > 0 && (n & (n - 1)) == 0; }

// values [rows, columns]: in every row, the columns [first, first + n) x become Q x.
void rotate_column_block(std::span<double> values, std::uint64_t columns, std::uint64_t first,
                         const rotation_matrix& q);

// values [n, columns] become Q values.
void rotate_rows(std::span<double> values, std::uint64_t columns, const rotation_matrix& q);

}  // namespace lineage::synth
