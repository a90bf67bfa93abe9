#include "reduce/tensor_stats.hpp"

#include <cmath>
#include <limits>

namespace lineage {
namespace {
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

double ratio_or_nan(double numerator, double denominator) {
  return denominator > 0 && std::isfinite(denominator) ? numerator / denominator : nan;
}

// Rounding can push a correlation of identical vectors a hair past ±1.
double clamp_unit(double r) { return std::isnan(r) ? r : std::fmax(-1.0, std::fmin(1.0, r)); }
}  // namespace

similarity derive_similarity(const pair_moments& m) noexcept {
  similarity s;
  const double n = static_cast<double>(m.count);
  // √(xy) rather than √x·√y: for identical sides √(x²) is exactly x, so the figure is exactly 1.
  s.cosine = clamp_unit(ratio_or_nan(m.raw_ab, std::sqrt(m.raw_aa * m.raw_bb)));
  s.pearson = clamp_unit(ratio_or_nan(m.c_ab, std::sqrt(m.m2_a * m.m2_b)));
  s.rel_l2 = ratio_or_nan(std::sqrt(m.sum_dd), std::sqrt(m.raw_aa));
  s.norm_ratio = ratio_or_nan(std::sqrt(m.raw_bb), std::sqrt(m.raw_aa));
  s.bitwise_equal_fraction =
      ratio_or_nan(static_cast<double>(m.bitwise_equal), static_cast<double>(m.elements));
  s.mean_a = m.count > 0 ? m.mean_a : nan;
  s.mean_b = m.count > 0 ? m.mean_b : nan;
  s.std_a = m.count > 1 ? std::sqrt(m.m2_a / (n - 1)) : nan;
  s.std_b = m.count > 1 ? std::sqrt(m.m2_b / (n - 1)) : nan;
  s.cv_a = ratio_or_nan(s.std_a, std::fabs(s.mean_a));
  s.cv_b = ratio_or_nan(s.std_b, std::fabs(s.mean_b));
  return s;
}

}  // namespace lineage
