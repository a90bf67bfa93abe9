#include "reduce/null_figures.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "reduce/probability.hpp"
#include "reduce/tensor_stats.hpp"

namespace lineage {
namespace {

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return NAN;
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto low = static_cast<std::size_t>(position);
  const std::size_t high = std::min(low + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(low);
  return sorted[low] + fraction * (sorted[high] - sorted[low]);
}

}  // namespace

statistic_null summarise(const std::vector<double>& samples) {
  statistic_null s;
  const double count = static_cast<double>(samples.size());
  double sum = 0;
  for (const double v : samples) sum += v;
  s.mean = sum / count;
  double squares = 0;
  for (const double v : samples) squares += (v - s.mean) * (v - s.mean);
  s.sd = samples.size() > 1 ? std::sqrt(squares / (count - 1)) : 0;
  std::vector<double> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  s.min = sorted.front();
  s.max = sorted.back();
  s.q01 = quantile(sorted, 0.01);
  s.q50 = quantile(sorted, 0.50);
  s.q99 = quantile(sorted, 0.99);
  return s;
}

namespace {

// The closed-form null's agreement with the permutation null, once p_value is known.
null_figures finish_closed_form(null_figures& f, const pair_moments& moments, double alpha) {
  if (moments.count > 1 && f.pearson.sd > 0) {
    f.null_sd_ratio = f.pearson.sd * std::sqrt(static_cast<double>(moments.count));
    f.closed_form_disagrees = (f.closed_p <= alpha) != (f.p_value <= alpha);
  }
  return f;
}

}  // namespace

sum_test test_sum(double observed, const std::vector<double>& null, double u) {
  sum_test test;
  if (null.empty()) return test;
  std::size_t above = 0, equal = 0;
  double largest = -INFINITY;
  for (const double t : null) {
    above += t > observed;
    equal += t == observed;
    largest = std::max(largest, t);
  }
  const double k = static_cast<double>(null.size());
  test.p_floor = 1 / (1 + k);
  test.p_permutation = (1 + static_cast<double>(above + equal)) / (1 + k);
  const double randomized = (static_cast<double>(above) + u * (1 + static_cast<double>(equal))) / (1 + k);
  test.p_value = std::max(randomized, test.p_floor);
  test.log10_p_value = std::log10(test.p_value);
  test.beyond_all = observed > largest;
  const statistic_null summary = summarise(null);
  if (summary.sd > 0) test.z = (observed - summary.mean) / summary.sd;
  return test;
}

namespace {

// The slices' direction statistic of a matrix: its null from the same draws and randomizer as T,
// and for a matrix it replaces T's as the tensor's one test (one p per tensor, never two
// correlated ones).
void add_direction_test(const null_samples& samples, null_figures& f) {
  const double rows_tested = static_cast<double>(samples.tested_units);
  f.directions = true;
  f.folded = samples.folded;
  f.direction_cosine = samples.direction_observed / rows_tested;
  std::vector<double> means;
  for (const double d : samples.direction_t) means.push_back(d / rows_tested);
  f.direction_null = summarise(means);
  f.direction_samples = std::move(means);
  const sum_test on_d = test_sum(samples.direction_observed, samples.direction_t, samples.randomizer);
  f.direction_z = on_d.z;
  f.direction_p = on_d.p_value;
  f.products_p_value = f.p_value;
  f.products_z = f.z;
  f.test = "slice directions";
  f.test_observed = samples.direction_observed;
  f.test_samples = samples.direction_t;
  f.p_permutation = on_d.p_permutation;
  f.p_value = on_d.p_value;
  f.log10_p_value = on_d.log10_p_value;
  f.z = on_d.z;
  f.beyond_all = on_d.beyond_all;
}

}  // namespace

null_figures derive_null_figures(const null_samples& samples, const pair_moments& pair_moments_all,
                                 double pair_pearson, double alpha, std::string unit) {
  null_figures f;
  f.unit = std::move(unit);
  const bool subset = samples.usable && samples.subset;
  const pair_moments& moments = subset ? samples.tested : pair_moments_all;
  double observed_pearson = pair_pearson;
  if (subset) {
    const similarity tested = derive_similarity(samples.tested);
    f.subset = true;
    f.tested_units = samples.tested_units;
    f.tested_cosine = tested.cosine;
    f.tested_pearson = observed_pearson = tested.pearson;
  }
  const double n = static_cast<double>(moments.count);
  if (moments.count > 1 && std::isfinite(observed_pearson)) {
    f.closed_z = std::sqrt(n) * observed_pearson;
    f.closed_p = normal_upper_tail(f.closed_z);
  }
  if (!samples.usable) {
    f.reason = samples.reason;
    return f;
  }
  if (samples.t.empty()) {
    f.reason = "no permutations drawn";
    return f;
  }
  f.available = true;
  f.permutations = static_cast<std::uint32_t>(samples.t.size());

  // Statistics as functions of T (the sums other than T do not change under permutation).
  const double norm_product = std::sqrt(moments.raw_aa * moments.raw_bb);
  const double centred_product = std::sqrt(moments.m2_a * moments.m2_b);
  const double offset = n * moments.mean_a * moments.mean_b;
  const double norm_a = std::sqrt(moments.raw_aa);
  for (const double t : samples.t) {
    f.cosine_samples.push_back(norm_product > 0 ? t / norm_product : NAN);
    f.pearson_samples.push_back(centred_product > 0 ? (t - offset) / centred_product : NAN);
    f.rel_l2_samples.push_back(
        norm_a > 0 ? std::sqrt(std::max(0.0, moments.raw_aa + moments.raw_bb - 2 * t)) / norm_a : NAN);
  }
  f.cosine = summarise(f.cosine_samples);
  f.pearson = summarise(f.pearson_samples);
  f.rel_l2 = summarise(f.rel_l2_samples);

  f.test_observed = samples.observed;
  f.test_samples = samples.t;
  const sum_test on_t = test_sum(samples.observed, samples.t, samples.randomizer);
  f.p_permutation = on_t.p_permutation;
  f.p_value = on_t.p_value;
  f.p_floor = on_t.p_floor;
  f.log10_p_value = on_t.log10_p_value;
  f.z = on_t.z;
  f.beyond_all = on_t.beyond_all;
  if (samples.directions && samples.direction_t.size() == samples.t.size() && samples.tested_units > 0)
    add_direction_test(samples, f);
  return finish_closed_form(f, moments, alpha);
}

}  // namespace lineage
