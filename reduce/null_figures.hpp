#pragma once
// A tensor pair's similarity against its permutation null, and beside the closed-form null.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "shard/block_stats.hpp"
#include "shard/permutation_null.hpp"

namespace lineage {

// One statistic's null distribution, summarised.
struct statistic_null {
  double mean = 0, sd = 0, q01 = 0, q50 = 0, q99 = 0, min = 0, max = 0;
};

// Mean, sd (n − 1), quantiles and extremes of `samples` (non-empty).
statistic_null summarise(const std::vector<double>& samples);

// The permutation test of a statistic that is a sum over many rows (T, D): the randomized p
// (#{null > obs} + U·(1 + #{null = obs})) / (1 + K), exactly uniform for unrelated tensors; beyond
// every null sample, (1/(1 + K))·P(Z > z)/P(Z > z_max), the normal tail resolving how far beyond.
struct sum_test {
  double p_permutation = 1;  // (1 + #{null ≥ observed}) / (1 + K)
  double p_value = 1;        // at least the smallest positive double
  double log10_p_value = 0;  // exact where p_value would underflow
  double z = 0, p_tail = 1;  // (observed − null mean) / null sd and its normal tail
  bool beyond_all = false;
};
sum_test test_sum(double observed, const std::vector<double>& null, double u);

struct null_figures {
  bool available = false;
  std::string reason;            // why not: "non-finite values", "fewer than two units to permute", ...
  std::uint32_t permutations = 0;
  std::string unit;              // "rows" (matrices) or "elements" (vectors)
  statistic_null cosine, pearson, rel_l2;
  std::vector<double> cosine_samples, pearson_samples, rel_l2_samples;

  // Raw cosine, Pearson and relative L2 are all monotone in T = Σ⟨aᵢ, b_π(i)⟩, so one permutation
  // p-value and one z-score serve all three.
  double p_permutation = 1;      // (1 + #{null ≥ observed}) / (1 + K), "more similar than chance"
  double z = 0;                  // (observed − null mean) / null sd, on T
  double p_tail = 1;             // normal upper tail of z
  bool beyond_all = false;       // the observed value exceeds every null sample
  // The tensor's p, the one the evidence combines: the randomized permutation p-value
  // (#{null > obs} + U·(1 + #{null = obs})) / (1 + K), exactly uniform for unrelated tensors
  // (the classic p_permutation is conservative, and combining many conservative p-values
  // compounds it); beyond every null sample, (1/(1 + K))·P(Z > z)/P(Z > z_max), the normal tail
  // resolving how far beyond.
  double p_value = 1;            // at least the smallest positive double
  double log10_p_value = 0;      // exact where p_value would underflow

  // Closed form for Pearson over n independent elements: √n·r ≈ N(0, 1).
  double closed_z = 0, closed_p = 1;
  double null_sd_ratio = 0;      // empirical null sd of Pearson × √n (1 when elements behave independently)
  bool closed_form_disagrees = false;  // the two nulls disagree on significance at α

  // After expert matching the test may cover a subset of the pairs (the rows the matching looked
  // at are left out): then every figure above is of that subset, whose own figures are these.
  bool subset = false;
  std::uint64_t tested_units = 0;       // rows (or elements) entering the test
  double tested_cosine = NAN, tested_pearson = NAN;

  // Matrices: the scale-invariant test of row directions (null_samples::direction_*): the mean
  // cosine of matching rows, folded with the norm weight the layer reads (`folded`), against the
  // same row permutations. For a folded matrix this is the tensor's test: p_permutation, p_value,
  // log10_p_value, z, p_tail and beyond_all above are the direction test's, `test` says so, and
  // the test of T (which a norm rescaled against the matrix's columns would hide) keeps its
  // p-value and z in products_p_value and products_z.
  bool directions = false, folded = false;
  std::string test = "products";      // "products" (T) or "row directions"
  double direction_cosine = NAN;        // D / rows tested
  statistic_null direction_null;        // of D / rows under the permutations
  std::vector<double> direction_samples;  // D / rows, per permutation
  double direction_z = 0;
  double direction_p = 1;               // randomized p with the normal tail beyond every sample
  double products_p_value = 1, products_z = 0;
};

// `observed_pearson` is the pair's reported Pearson (from the merged moments); `alpha` decides
// whether closed form and permutation test agree on significance. When `samples` tested a subset,
// its own moments replace `moments` and `observed_pearson`.
null_figures derive_null_figures(const null_samples& samples, const pair_moments& moments,
                                 double observed_pearson, double alpha, bool rows);

}  // namespace lineage
