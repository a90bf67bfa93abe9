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
  t.p = (static_cast<double>(above) + u * (1 + static_cast<double>(equal))) / (1 + k);
  const double largest = *std::max_element(null.begin(), null.end());
  if (observed > largest && sd > 0)
    t.p = std::max(std::exp(log_normal_upper_tail(t.z) - log_normal_upper_tail((largest - mean) / sd)) / (1 + k),
                   std::numeric_limits<double>::denorm_min());
  return t;
}

}  // namespace lineage
