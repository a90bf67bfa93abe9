#include "reduce/fingerprint_figures.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "reduce/permutation_test.hpp"

namespace lineage {

std::vector<double> fingerprint_features(const tensor_fingerprint& f, std::size_t singular_values) {
  std::vector<double> x{std::log(f.sd), f.sd > 0 ? f.mean / f.sd : NAN};
  for (std::size_t k = 0; k < std::min(singular_values, f.spectrum.size()); ++k) x.push_back(std::log(f.spectrum[k]));
  return x;
}

std::vector<double> detrended(const std::vector<double>& series, const std::vector<double>& t) {
  const auto n = static_cast<Eigen::Index>(series.size());
  if (n < static_cast<Eigen::Index>(fingerprint_minimum_layers) || t.size() != series.size()) return {};
  for (const double v : series)
    if (!std::isfinite(v)) return {};
  // Positions scaled to [−1, 1] keep the design well conditioned.
  const double lo = *std::min_element(t.begin(), t.end()), hi = *std::max_element(t.begin(), t.end());
  Eigen::MatrixXd design(n, 3);
  Eigen::VectorXd y(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double u = hi > lo ? 2 * (t[static_cast<std::size_t>(i)] - lo) / (hi - lo) - 1 : 0;
    design(i, 0) = 1;
    design(i, 1) = u;
    design(i, 2) = u * u;
    y(i) = series[static_cast<std::size_t>(i)];
  }
  const Eigen::VectorXd fit = design.colPivHouseholderQr().solve(y);
  const Eigen::VectorXd residual = y - design * fit;
  const double scale = y.cwiseAbs().maxCoeff();
  const double sd = std::sqrt(residual.squaredNorm() / static_cast<double>(n));
  // Nothing beyond the fit (to rounding): a constant or exactly quadratic series carries no
  // layer-specific information.
  if (!(sd > 1e-12 * std::max(1.0, scale))) return {};
  std::vector<double> out(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) out[static_cast<std::size_t>(i)] = residual(i) / sd;
  return out;
}

namespace {

// One role's layers (ascending) and its pairs there.
struct role_series {
  std::vector<std::int32_t> layers;
  std::vector<const fingerprint_pair_figures*> pairs;
};

// The layer set most roles share (ties: more layers, then the smaller set); roles with another set
// stay out of the test, whose shifts must move every role alike.
std::vector<std::int32_t> common_layers(const std::map<std::string, role_series>& roles) {
  std::map<std::vector<std::int32_t>, std::size_t> count;
  for (const auto& [role, s] : roles) ++count[s.layers];
  std::vector<std::int32_t> best;
  std::size_t best_count = 0;
  for (const auto& [layers, n] : count)
    if (n > best_count || (n == best_count && layers.size() > best.size())) {
      best = layers;
      best_count = n;
    }
  return best;
}

// Mean over series of (1/n) Σᵢ a[i]·b[(i + shift) mod n].
double shifted_statistic(const std::vector<std::pair<std::vector<double>, std::vector<double>>>& series,
                         std::size_t shift) {
  double total = 0;
  for (const auto& [a, b] : series) {
    const std::size_t n = a.size();
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += a[i] * b[(i + shift) % n];
    total += sum / static_cast<double>(n);
  }
  return total / static_cast<double>(series.size());
}

fingerprint_test shifted_layer_test(const std::vector<fingerprint_pair_figures>& pairs, std::uint64_t seed) {
  fingerprint_test test;
  std::map<std::string, role_series> roles;
  for (const auto& p : pairs) {
    if (!p.a.finite || !p.b.finite) continue;
    auto& s = roles[p.role];
    s.layers.push_back(p.layer);
    s.pairs.push_back(&p);
  }
  if (roles.empty()) {
    test.reason = "no tensor with finite fingerprints on both sides";
    return test;
  }
  test.layers = common_layers(roles);
  if (test.layers.size() < fingerprint_minimum_layers) {
    test.reason = fmt::format("{} layers of fingerprinted tensors; the shifted-layer null needs {}", test.layers.size(),
                              fingerprint_minimum_layers);
    return test;
  }
  const std::vector<double> t(test.layers.begin(), test.layers.end());
  std::vector<std::pair<std::vector<double>, std::vector<double>>> series;
  for (const auto& [role, s] : roles) {
    if (s.layers != test.layers) continue;
    std::size_t singular_values = SIZE_MAX;
    for (const auto* p : s.pairs)
      singular_values = std::min({singular_values, p->a.spectrum.size(), p->b.spectrum.size()});
    const std::size_t features = fingerprint_features(s.pairs.front()->a, singular_values).size();
    std::vector<std::vector<double>> a(features), b(features);
    for (const auto* p : s.pairs) {
      const auto fa = fingerprint_features(p->a, singular_values), fb = fingerprint_features(p->b, singular_values);
      for (std::size_t j = 0; j < features; ++j) {
        a[j].push_back(fa[j]);
        b[j].push_back(fb[j]);
      }
    }
    bool used = false;
    for (std::size_t j = 0; j < features; ++j) {
      auto ra = detrended(a[j], t), rb = detrended(b[j], t);
      if (ra.empty() || rb.empty()) continue;
      series.emplace_back(std::move(ra), std::move(rb));
      used = true;
    }
    if (used) test.roles.push_back(role);
  }
  if (series.empty()) {
    test.reason = "no fingerprint feature varies across the layers beyond the depth trend";
    return test;
  }
  test.series = series.size();
  test.statistic = shifted_statistic(series, 0);
  for (std::size_t s = 1; s < test.layers.size(); ++s) test.null.push_back(shifted_statistic(series, s));
  random_stream stream(seed, "fingerprint p", "shifted layers");
  const randomized_test r = permutation_test(test.statistic, test.null, 1.0 - stream.uniform());
  test.z = r.z;
  test.p_value = r.p;
  test.available = true;
  return test;
}

}  // namespace

fingerprint_figures derive_fingerprints(const work_plan& plan, const std::vector<fingerprint_result>& results,
                                        std::uint64_t seed) {
  if (!results.empty() && results.size() != plan.fingerprints.size())
    throw internal_error("derive_fingerprints: one result per planned unit expected");
  fingerprint_figures figures;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& request = plan.fingerprints[i];
    figures.pairs.push_back({request.layer, request.role, request.a.name, request.b.name, request.a.shape,
                             request.b.shape, results[i].a, results[i].b});
  }
  if (!figures.pairs.empty()) figures.test = shifted_layer_test(figures.pairs, seed);
  else
    figures.test.reason = "no fingerprinted pairs: no tensors of one key but another shape (or fingerprints: false)";
  return figures;
}

}  // namespace lineage
