#include "shard/block_stats.hpp"

#include <algorithm>

namespace lineage {

pair_moments pair_moments::from_block(const kernel_sums& s) noexcept {
  pair_moments m;
  m.elements = s.elements;
  m.count = s.count;
  m.bitwise_equal = s.bitwise_equal;
  m.nonfinite_a = s.nonfinite_a;
  m.nonfinite_b = s.nonfinite_b;
  m.min_a = s.min_a;
  m.max_a = s.max_a;
  m.min_b = s.min_b;
  m.max_b = s.max_b;
  m.sum_dd = s.sum_dd;
  if (s.count == 0) return m;
  const double n = static_cast<double>(s.count);
  const double offset_a = s.sum_a / n;  // mean minus shift: small when the shift is near the mean
  const double offset_b = s.sum_b / n;
  m.mean_a = s.shift_a + offset_a;
  m.mean_b = s.shift_b + offset_b;
  m.m2_a = std::max(0.0, s.sum_aa - s.sum_a * offset_a);
  m.m2_b = std::max(0.0, s.sum_bb - s.sum_b * offset_b);
  m.c_ab = s.sum_ab - s.sum_a * offset_b;
  // Back to raw sums: Σab = Σ(a−s)(b−t) + tΣ(a−s) + sΣ(b−t) + nst. The squares use the very same
  // sequence of operations, so identical sides give bit-identical Σab, Σa² and Σb².
  m.raw_aa = s.sum_aa + s.shift_a * s.sum_a + s.shift_a * s.sum_a + n * s.shift_a * s.shift_a;
  m.raw_bb = s.sum_bb + s.shift_b * s.sum_b + s.shift_b * s.sum_b + n * s.shift_b * s.shift_b;
  m.raw_ab = s.sum_ab + s.shift_b * s.sum_a + s.shift_a * s.sum_b + n * s.shift_a * s.shift_b;
  return m;
}

void pair_moments::merge(const pair_moments& later) noexcept {
  elements += later.elements;
  bitwise_equal += later.bitwise_equal;
  nonfinite_a += later.nonfinite_a;
  nonfinite_b += later.nonfinite_b;
  min_a = std::min(min_a, later.min_a);
  max_a = std::max(max_a, later.max_a);
  min_b = std::min(min_b, later.min_b);
  max_b = std::max(max_b, later.max_b);
  sum_dd += later.sum_dd;
  raw_aa += later.raw_aa;
  raw_bb += later.raw_bb;
  raw_ab += later.raw_ab;
  if (later.count == 0) return;
  if (count == 0) {
    count = later.count;
    mean_a = later.mean_a;
    mean_b = later.mean_b;
    m2_a = later.m2_a;
    m2_b = later.m2_b;
    c_ab = later.c_ab;
    return;
  }
  const double n1 = static_cast<double>(count);
  const double n2 = static_cast<double>(later.count);
  const double n = n1 + n2;
  const double delta_a = later.mean_a - mean_a;
  const double delta_b = later.mean_b - mean_b;
  const double weight = n1 * n2 / n;
  m2_a += later.m2_a + delta_a * delta_a * weight;
  m2_b += later.m2_b + delta_b * delta_b * weight;
  c_ab += later.c_ab + delta_a * delta_b * weight;
  mean_a += delta_a * (n2 / n);
  mean_b += delta_b * (n2 / n);
  count += later.count;
}

}  // namespace lineage
