#pragma once
// Mergeable statistics of element-aligned pairs (a_i, b_i), accumulated in double.
//
// The kernel returns `kernel_sums` for one block: sums of values shifted by a per-block constant
// (the mean of the block's first finite values), which keeps Σ(a−ā)² accurate when a vector has a
// large mean and small spread, as norm weights do. `pair_moments` turns them into means, centred
// sums and raw sums and merges blocks with the pairwise update of Chan, Golub and LeVeque, always in
// plan order, so the figures do not depend on how blocks were spread over ranks.
#include <cstdint>
#include <limits>

namespace lineage {

// One block straight from the kernel.
struct kernel_sums {
  std::uint64_t elements = 0;       // pairs in the block
  std::uint64_t count = 0;          // pairs where both values are finite (the rest are excluded)
  double shift_a = 0, shift_b = 0;  // the constants subtracted before summing
  double sum_a = 0, sum_b = 0;      // Σ(a−shift_a), Σ(b−shift_b)
  double sum_aa = 0, sum_bb = 0, sum_ab = 0;  // Σ(a−shift_a)², Σ(b−shift_b)², Σ(a−shift_a)(b−shift_b)
  double sum_dd = 0;                // Σ(a−b)², unshifted
  std::uint64_t bitwise_equal = 0;  // pairs equal bit for bit in the common dtype (all pairs)
  std::uint64_t nonfinite_a = 0, nonfinite_b = 0;  // NaN or ±Inf elements on each side
  double min_a = std::numeric_limits<double>::infinity(), max_a = -std::numeric_limits<double>::infinity();
  double min_b = std::numeric_limits<double>::infinity(), max_b = -std::numeric_limits<double>::infinity();
};

struct pair_moments {
  std::uint64_t elements = 0;
  std::uint64_t count = 0;                 // n: finite pairs entering every statistic
  double mean_a = 0, mean_b = 0;
  double m2_a = 0, m2_b = 0, c_ab = 0;     // Σ(a−ā)², Σ(b−b̄)², Σ(a−ā)(b−b̄)
  double raw_aa = 0, raw_bb = 0, raw_ab = 0;  // Σa², Σb², Σab
  double sum_dd = 0;                       // Σ(a−b)²
  std::uint64_t bitwise_equal = 0;
  std::uint64_t nonfinite_a = 0, nonfinite_b = 0;
  double min_a = std::numeric_limits<double>::infinity(), max_a = -std::numeric_limits<double>::infinity();
  double min_b = std::numeric_limits<double>::infinity(), max_b = -std::numeric_limits<double>::infinity();

  static pair_moments from_block(const kernel_sums& sums) noexcept;
  // Appends `later` (the block that follows in plan order).
  void merge(const pair_moments& later) noexcept;

  [[nodiscard]] double sum_a() const noexcept { return mean_a * static_cast<double>(count); }
  [[nodiscard]] double sum_b() const noexcept { return mean_b * static_cast<double>(count); }

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & elements & count & mean_a & mean_b & m2_a & m2_b & c_ab & raw_aa & raw_bb & raw_ab &
        sum_dd & bitwise_equal & nonfinite_a & nonfinite_b & min_a & max_a & min_b & max_b;
  }
};

}  // namespace lineage
