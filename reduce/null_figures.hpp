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

// The randomization test of one observed statistic against its K draws: the randomized p
// (#{null > obs} + U·(1 + #{null = obs})) / (1 + K), exactly uniform under the null, but never
// reported below the floor 1/(1 + K) that the draws can resolve (so P(p ≤ t) = t for every
// t ≥ the floor, and no smaller value is claimed). No tail is extrapolated beyond the samples: when
// a few rows dominate a sum, its randomization law is not normal there.
struct sum_test {
  double p_permutation = 1;  // (1 + #{null ≥ observed}) / (1 + K), the conservative p
  double p_value = 1;        // max(randomized p, p_floor)
  double p_floor = 1;        // 1 / (1 + K)
  double log10_p_value = 0;
  double z = 0;              // (observed − null mean) / null sd: the effect size, not a p-value
  bool beyond_all = false;   // the observed value exceeds every draw
};
sum_test test_sum(double observed, const std::vector<double>& null, double u);

struct null_figures {
  bool available = false;
  std::string reason;            // why not: "non-finite values", "fewer than two units to permute", ...
  std::uint32_t permutations = 0;
  std::string unit;              // what the null permutes, e.g. "rows (neuron)", "columns (hidden)"
  std::string test_unit;         // the unit whose draws it shares (reduce/unit_figures.hpp)
  statistic_null cosine, pearson, rel_l2;
  std::vector<double> cosine_samples, pearson_samples, rel_l2_samples;

  // The tensor's own test, on its test statistic (`test`): the slice directions D for matrices, T
  // for vectors. Raw cosine, Pearson and relative L2 are monotone in T, so T's p serves all three.
  // The evidence combines units (reduce/unit_figures.hpp), not these; they say where a unit's
  // signal sits.
  double p_permutation = 1;      // (1 + #{null ≥ observed}) / (1 + K)
  double z = 0;                  // (observed − null mean) / null sd
  bool beyond_all = false;       // the observed value exceeds every draw
  double p_value = 1;            // max(randomized p, p_floor): sum_test
  double p_floor = 1;            // 1 / (1 + K)
  double log10_p_value = 0;

  // Closed form for Pearson over n independent elements: √n·r ≈ N(0, 1).
  double closed_z = 0, closed_p = 1;
  double null_sd_ratio = 0;      // empirical null sd of Pearson × √n (1 when elements behave independently)
  bool closed_form_disagrees = false;  // the two nulls disagree on significance at α

  // After expert matching the test may cover a subset of the pairs (the rows the matching looked
  // at are left out): then every figure above is of that subset, whose own figures are these.
  bool subset = false;
  std::uint64_t tested_units = 0;       // rows (or elements) entering the test
  double tested_cosine = NAN, tested_pearson = NAN;

  // Matrices: the scale-invariant statistic of slice directions (null_samples::direction_*): the
  // mean cosine of matching slices (rows folded with the norm weight the layer reads: `folded`),
  // under the same draws. For matrices it is the tensor's test (`test` = "slice directions"): a
  // norm or a slice rescaled against the layer that reads it hides nothing from it; T's own p and z
  // stay in products_p_value and products_z.
  bool directions = false, folded = false;
  std::string test = "products";      // "products" (T) or "slice directions"
  double direction_cosine = NAN;        // D / slices tested
  statistic_null direction_null;        // of D / slices under the draws
  std::vector<double> direction_samples;  // D / slices, per draw
  double direction_z = 0;
  double direction_p = 1;
  double products_p_value = 1, products_z = 0;
  // The test statistic itself (D for matrices, T for vectors): observed and per draw, as the unit's
  // joint statistic uses them (reduce/unit_figures.hpp).
  double test_observed = NAN;
  std::vector<double> test_samples;
};

// `observed_pearson` is the pair's reported Pearson (from the merged moments); `alpha` decides
// whether closed form and permutation test agree on significance. When `samples` tested a subset,
// its own moments replace `moments` and `observed_pearson`.
null_figures derive_null_figures(const null_samples& samples, const pair_moments& moments,
                                 double observed_pearson, double alpha, std::string unit);

}  // namespace lineage
