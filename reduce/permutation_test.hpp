#pragma once
// The randomized permutation test of one observed statistic against its null samples, with the
// normal tail beyond the last sample — shared by the layer-order tests and the expert matching
// (the per-tensor nulls, whose statistic is T, have their own in null_figures.cpp).
#include <span>

namespace lineage {

struct randomized_test {
  double z = 0;  // (observed − null mean) / null sd
  double p = 1;  // (#{null > obs} + u·(1 + #{null = obs})) / (1 + K); beyond every sample,
                 // (1/(1 + K))·P(Z > z)/P(Z > z_max), at least the smallest positive double
};

// Larger is more extreme. `u` in (0, 1] is drawn by the caller after the null; `null` non-empty.
randomized_test permutation_test(double observed, std::span<const double> null, double u);

}  // namespace lineage
