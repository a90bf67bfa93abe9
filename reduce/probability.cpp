#include "reduce/probability.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>

#include "core/random_stream.hpp"

namespace lineage {

double normal_upper_tail(double z) noexcept { return 0.5 * std::erfc(z / std::numbers::sqrt2); }

double log_normal_upper_tail(double z) noexcept {
  if (z < 30) return std::log(normal_upper_tail(z));
  // Mills' ratio: P(Z > z) = φ(z)/z · (1 − 1/z² + 3/z⁴ − …); the terms shown suffice past z = 30.
  const double inverse_square = 1 / (z * z);
  return -0.5 * z * z - std::log(z) - 0.5 * std::log(2 * std::numbers::pi) +
         std::log1p(-inverse_square + 3 * inverse_square * inverse_square);
}

double chi_square_upper_tail_even(double x, std::size_t k) noexcept {
  if (k == 0) return 1;
  if (!(x > 0)) return 1;
  // Q(k, h) = e^{−h} Σ_{j<k} h^j / j!, h = x/2, summed in log space.
  const double h = x / 2;
  const double log_h = std::log(h);
  double largest = -INFINITY;
  std::vector<double> logs(k);
  for (std::size_t j = 0; j < k; ++j) {
    logs[j] = static_cast<double>(j) * log_h - h - std::lgamma(static_cast<double>(j) + 1);
    largest = std::max(largest, logs[j]);
  }
  double scaled = 0;
  for (const double l : logs) scaled += std::exp(l - largest);
  return std::min(1.0, std::exp(largest + std::log(scaled)));
}

namespace {

// Gauss–Legendre nodes and weights on [−1, 1], 10 points.
constexpr double gl_nodes[5] = {0.1488743389816312, 0.4333953941292472, 0.6794095682990244,
                                0.8650633666889845, 0.9739065285171717};
constexpr double gl_weights[5] = {0.2955242247147529, 0.2692667193099963, 0.2190863625159820,
                                  0.1494513099318590, 0.0666713443086881};

template <typename F>
double integrate(F f, double from, double to, int panels) {
  const double width = (to - from) / panels;
  double total = 0;
  for (int p = 0; p < panels; ++p) {
    const double middle = from + (p + 0.5) * width, half = width / 2;
    for (int i = 0; i < 5; ++i)
      total += gl_weights[i] * (f(middle - half * gl_nodes[i]) + f(middle + half * gl_nodes[i]));
  }
  return total * width / 2;
}

// e^{−t ln t} sin(πt) / t, with its limit π at t = 0.
double landau_kernel(double t) {
  if (t <= 0) return std::numbers::pi;
  return std::exp(-t * std::log(t)) * std::sin(std::numbers::pi * t) / t;
}

}  // namespace

double landau_upper_tail(double y) noexcept {
  // P(X > y) = (1/π) ∫₀^∞ e^{−t ln t − y t} sin(πt)/t dt. The left tail falls off doubly
  // exponentially, the right tail like 1/y.
  if (y < -3.5) return 1;  // P(X ≤ −3.5) < 1e-6
  if (y > 1e8) return 1 / y;
  double integral;
  if (y <= 4) {
    // e^{−t ln t − yt} is below e^{−35} for t ≥ 60 when y ≥ −3.5; quarter-period panels resolve
    // sin(πt).
    integral = integrate([y](double t) { return landau_kernel(t) * std::exp(-y * t); }, 0, 60, 240);
  } else {
    // Substituting u = yt puts the decay e^{−u} on a fixed scale.
    integral = integrate([y](double u) { return landau_kernel(u / y) * std::exp(-u) / y; }, 0, 50, 200);
  }
  return std::clamp(integral / std::numbers::pi, 0.0, 1.0);
}

combined_p fisher_combination(std::span<const double> p_values) noexcept {
  combined_p out;
  if (p_values.empty()) return out;
  for (const double p : p_values) out.statistic += -2 * std::log(std::max(p, 1e-300));
  out.p = chi_square_upper_tail_even(out.statistic, p_values.size());
  return out;
}

namespace {

// Up to this many p-values the HMP's null law is simulated; beyond it the Landau law is accurate.
constexpr std::size_t exact_hmp_limit = 64;
constexpr std::size_t hmp_draws = 100'000;
// Below this simulated p the simulation is coarse and the (accurate) Landau tail takes over.
constexpr double tail_switch = 1e-3;

// The sorted HMPs of `hmp_draws` sets of L independent uniform p-values, drawn once per L from a
// fixed stream, so every run and every machine uses the same table.
const std::vector<double>& simulated_hmp_null(std::size_t count) {
  static std::map<std::size_t, std::vector<double>> tables;
  auto& table = tables[count];
  if (!table.empty()) return table;
  random_stream stream(count, "harmonic mean p null", "uniform");
  table.reserve(hmp_draws);
  for (std::size_t draw = 0; draw < hmp_draws; ++draw) {
    double reciprocal_sum = 0;
    for (std::size_t i = 0; i < count; ++i) reciprocal_sum += 1 / (1 - stream.uniform());  // in (0, 1]
    table.push_back(static_cast<double>(count) / reciprocal_sum);
  }
  std::sort(table.begin(), table.end());
  return table;
}

}  // namespace

combined_p harmonic_mean_combination(std::span<const double> p_values) {
  combined_p out;
  if (p_values.empty()) return out;
  double reciprocal_sum = 0;
  for (const double p : p_values) reciprocal_sum += 1 / std::max(p, 1e-300);
  const double count = static_cast<double>(p_values.size());
  out.statistic = count / reciprocal_sum;
  if (p_values.size() == 1) {
    out.p = p_values[0];
    return out;
  }
  constexpr double euler_gamma = 0.5772156649015329;
  const double asymptotic = landau_upper_tail(1 / out.statistic - std::log(count) - (1 - euler_gamma));
  if (p_values.size() > exact_hmp_limit) {
    out.p = asymptotic;
    return out;
  }
  // For few p-values the Landau law is right in the tail but squeezes the rest of the range (for
  // L = 2 no p-value exceeds 0.76), so the bulk comes from the simulated null law of the HMP.
  const std::vector<double>& null = simulated_hmp_null(p_values.size());
  const auto at_most = static_cast<double>(std::upper_bound(null.begin(), null.end(), out.statistic) - null.begin());
  const double simulated = (1 + at_most) / (1 + static_cast<double>(null.size()));
  out.p = simulated <= tail_switch ? std::min(asymptotic, simulated) : simulated;
  return out;
}

double sidak(double p, double m) noexcept {
  if (p >= 1) return 1;
  if (m == 1) return p;
  return std::min(1.0, -std::expm1(m * std::log1p(-p)));
}

std::vector<double> holm_sidak(std::span<const double> p_values) {
  const std::size_t m = p_values.size();
  std::vector<std::size_t> order(m);
  for (std::size_t i = 0; i < m; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return p_values[x] < p_values[y]; });
  std::vector<double> adjusted(m);
  double running = 0;
  for (std::size_t rank = 0; rank < m; ++rank) {
    const std::size_t i = order[rank];
    running = std::max(running, sidak(p_values[i], static_cast<double>(m - rank)));
    adjusted[i] = running;
  }
  return adjusted;
}

combined_p kolmogorov_smirnov_uniform(std::vector<double> samples) {
  combined_p out;
  const std::size_t n = samples.size();
  if (n == 0) return out;
  std::sort(samples.begin(), samples.end());
  double d = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = std::clamp(samples[i], 0.0, 1.0);
    const double count = static_cast<double>(n);
    d = std::max({d, static_cast<double>(i + 1) / count - x, x - static_cast<double>(i) / count});
  }
  out.statistic = d;
  const double root_n = std::sqrt(static_cast<double>(n));
  const double lambda = (root_n + 0.12 + 0.11 / root_n) * d;
  double p = 0;
  for (int j = 1; j <= 100; ++j) {
    const double term = 2 * ((j % 2) ? 1.0 : -1.0) * std::exp(-2.0 * j * j * lambda * lambda);
    p += term;
    if (std::fabs(term) < 1e-12) break;
  }
  out.p = std::clamp(p, 0.0, 1.0);
  if (lambda < 0.2) out.p = 1;
  return out;
}

}  // namespace lineage
