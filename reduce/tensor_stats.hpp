#pragma once
// Figures derived from merged moments. Undefined figures are NaN (written as null in JSON): a
// cosine needs two non-zero vectors, a Pearson correlation two non-constant ones.
#include <cstdint>

#include "shard/block_stats.hpp"

namespace lineage {

struct similarity {
  double cosine = 0;            // Σab / √(Σa² Σb²): the raw, uncentred similarity
  double pearson = 0;           // Σ(a−ā)(b−b̄) / √(Σ(a−ā)² Σ(b−b̄)²): the centred one
  double rel_l2 = 0;            // ‖a−b‖ / ‖a‖
  double norm_ratio = 0;        // ‖b‖ / ‖a‖
  double bitwise_equal_fraction = 0;  // over all pairs, in the common dtype
  double mean_a = 0, std_a = 0, mean_b = 0, std_b = 0;  // over the finite pairs; std with n−1
  double cv_a = 0, cv_b = 0;    // std / |mean|: what makes raw cosine high for unrelated vectors
};

similarity derive_similarity(const pair_moments& m) noexcept;

}  // namespace lineage
