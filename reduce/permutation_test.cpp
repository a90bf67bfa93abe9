#include "reduce/permutation_test.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "reduce/probability.hpp"

namespace lineage {

randomized_test permutation_test(double observed, std::span<const double> null, double u) {
  if (null.empty()) throw internal_error("permutation_test: no null samples");
  randomized_test t;
  std::size_t above = 0, equal = 0;
  double sum = 0;
  for (const double v : null) {
    above += v > observed;
    equal += v == observed;
    sum += v;
  }
  const double k = static_cast<double>(null.size());
  const double mean = sum / k;
  double squares = 0;
  for (const double v : null) squares += (v - mean) * (v - mean);
  const double sd = null.size() > 1 ? std::sqrt(squares / (k - 1)) : 0;
  t.z = sd > 0 ? (observed - mean) / sd : 0;
  // Never below what K draws can resolve (reduce/null_figures.hpp, sum_test).
  t.p = std::max((static_cast<double>(above) + u * (1 + static_cast<double>(equal))) / (1 + k), 1 / (1 + k));
  return t;
}

spearman_test test_spearman(double rho, std::uint64_t ranked, std::span<const double> null, double u) {
  spearman_test t;
  t.z = rho * std::sqrt(static_cast<double>(ranked) - 1);
  t.p_closed = normal_upper_tail(t.z);
  t.permutations = static_cast<std::uint32_t>(null.size());
  if (!null.empty()) t.p_permutation = permutation_test(rho, null, u).p;
  t.p_value = null.empty() ? std::max(t.p_closed, std::numeric_limits<double>::denorm_min()) : t.p_permutation;
  return t;
}

}  // namespace lineage
