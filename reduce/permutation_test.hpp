#pragma once
// The randomized permutation test of one observed statistic against its null samples, shared by
// the layer-order tests and the expert matching (the per-tensor nulls, whose statistic is T, have
// their own in null_figures.cpp).
//
// Unlike T, a sum over many rows whose permutation law is close to normal, these statistics are
// maxima (the best monotone path, the best assignment) or sums of few terms, with skewed or
// discrete null laws; a normal tail beyond the last sample would understate their tail and make
// small p-values too small. So their p is the exact randomized one, never below U/(1 + K): more
// permutations buy smaller p-values. The z-score is reported as the effect size.
#include <span>

namespace lineage {

struct randomized_test {
  double z = 0;  // (observed − null mean) / null sd
  double p = 1;  // (#{null > obs} + u·(1 + #{null = obs})) / (1 + K): exactly uniform under the null
};

// Larger is more extreme. `u` in (0, 1] is drawn by the caller after the null; `null` non-empty.
randomized_test permutation_test(double observed, std::span<const double> null, double u);

}  // namespace lineage
