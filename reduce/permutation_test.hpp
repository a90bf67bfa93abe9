#pragma once
// The randomized permutation test of one observed statistic against its null samples, shared by
// the layer-order tests, the matchings' agreement and the expert matching (the symmetry nulls of
// tensors and units have theirs in null_figures.cpp, with the same rule).
//
// No tail is extrapolated beyond the samples: the p is the exact randomized one, reported never
// below 1/(1 + K), the floor the draws can resolve — more permutations buy smaller p-values. The
// z-score is reported as the effect size.
#include <cmath>
#include <cstdint>
#include <span>

namespace lineage {

struct randomized_test {
  double z = 0;  // (observed − null mean) / null sd
  // max((#{null > obs} + u·(1 + #{null = obs})) / (1 + K), 1 / (1 + K)): uniform above the floor
  double p = 1;
};

// Larger is more extreme. `u` in (0, 1] is drawn by the caller after the null; `null` non-empty.
randomized_test permutation_test(double observed, std::span<const double> null, double u);

// The test that two matchings agree (neuron and hidden-dimension matching): Spearman's ρ of n
// ranked objects, ρ·√(n − 1) ≈ N(0, 1) for unrelated models; with a permutation null (K > 0) the
// randomized exact p decides instead.
struct spearman_test {
  double z = 0;
  double p_closed = 1;           // the upper normal tail of z
  std::uint32_t permutations = 0;
  double p_permutation = NAN;    // K > 0 only
  double p_value = 1;            // the one the evidence combines (never 0)
};
spearman_test test_spearman(double rho, std::uint64_t ranked, std::span<const double> null, double u);

}  // namespace lineage
