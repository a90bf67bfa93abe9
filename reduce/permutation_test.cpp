#include "reduce/permutation_test.hpp"

#include <cmath>

#include "core/error.hpp"

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
  return t;
}

}  // namespace lineage
