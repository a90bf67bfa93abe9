#include "reduce/layer_structure.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "core/random_stream.hpp"
#include "reduce/permutation_test.hpp"

namespace lineage {
namespace {

void diagonal_test(cross_layer_figures& f, std::uint64_t seed) {
  const std::size_t columns = f.layers_b.size();
  std::vector<std::size_t> rows_a, columns_b;  // matrix indices of the common layers
  for (std::size_t i = 0; i < f.layers_a.size(); ++i) {
    const auto found = std::find(f.layers_b.begin(), f.layers_b.end(), f.layers_a[i]);
    if (found == f.layers_b.end()) continue;
    rows_a.push_back(i);
    columns_b.push_back(static_cast<std::size_t>(found - f.layers_b.begin()));
  }
  f.common = rows_a.size();
  if (f.common < 2) return;
  const auto at = [&](std::size_t r, std::size_t c) { return f.pearson[rows_a[r] * columns + columns_b[c]]; };
  double diagonal = 0, off = 0, off_squares = 0;
  std::size_t off_count = 0;
  for (std::size_t r = 0; r < f.common; ++r)
    for (std::size_t c = 0; c < f.common; ++c) {
      if (r == c) {
        diagonal += at(r, c);
      } else {
        off += at(r, c);
        off_squares += at(r, c) * at(r, c);
        ++off_count;
      }
    }
  f.diagonal_mean = diagonal / static_cast<double>(f.common);
  f.off_diagonal_mean = off / static_cast<double>(off_count);
  f.off_diagonal_sd = std::sqrt(std::max(0.0, off_squares / static_cast<double>(off_count) -
                                                  f.off_diagonal_mean * f.off_diagonal_mean));
  for (std::size_t r = 0; r < f.common; ++r) {
    std::size_t at_least = 0;
    for (std::size_t c = 0; c < f.common; ++c)
      if (c != r) at_least += (at(r, c) >= at(r, r)) + (at(c, r) >= at(r, r));
    f.diagonal_rank_p.push_back((1 + static_cast<double>(at_least)) / (1 + 2 * static_cast<double>(f.common - 1)));
  }
  random_stream stream(seed, "layer-label permutations", f.role);
  std::vector<std::uint32_t> order(f.common);
  std::vector<double> null;
  for (std::uint32_t k = 0; k < layer_order_permutations; ++k) {
    random_permutation(stream, order);
    double total = 0;
    for (std::size_t r = 0; r < f.common; ++r) total += at(r, order[r]);
    null.push_back(total);
  }
  const randomized_test t = permutation_test(diagonal, null, 1 - stream.uniform());
  f.permutations = layer_order_permutations;
  f.z = t.z;
  f.p_value = t.p;
}

// The best monotone (non-decreasing) assignment of columns to rows of `s` (rows × columns):
// maximises Σ_j s[a(j), j]. Returns the total and writes a(j) into `matched`.
double best_monotone_path(const std::vector<double>& s, std::size_t rows, std::size_t columns,
                          const std::vector<std::size_t>& column_order, std::vector<std::size_t>* matched) {
  std::vector<double> best(rows * columns);
  std::vector<std::size_t> from(rows * columns);
  for (std::size_t j = 0; j < columns; ++j) {
    double running = -INFINITY;
    std::size_t running_at = 0;
    for (std::size_t i = 0; i < rows; ++i) {
      if (j > 0 && best[i * columns + j - 1] > running) {
        running = best[i * columns + j - 1];
        running_at = i;
      }
      const double here = s[i * columns + column_order[j]];
      best[i * columns + j] = j == 0 ? here : here + running;
      from[i * columns + j] = running_at;
    }
  }
  std::size_t end = 0;
  for (std::size_t i = 1; i < rows; ++i)
    if (best[i * columns + columns - 1] > best[end * columns + columns - 1]) end = i;
  const double total = best[end * columns + columns - 1];
  if (matched != nullptr) {
    matched->assign(columns, 0);
    for (std::size_t j = columns; j-- > 0;) {
      (*matched)[j] = end;
      if (j > 0) end = from[end * columns + j];
    }
  }
  return total;
}

}  // namespace

std::vector<cross_layer_figures> derive_cross_layer(const work_plan& plan,
                                                    const std::vector<cross_layer_result>& results,
                                                    std::uint64_t seed) {
  std::vector<cross_layer_figures> all;
  for (std::size_t i = 0; i < plan.cross_layers.size() && i < results.size(); ++i) {
    const auto& request = plan.cross_layers[i];
    const auto& result = results[i];
    cross_layer_figures f;
    f.role = request.role;
    f.layers_a = request.layers_a;
    f.layers_b = request.layers_b;
    f.sample_elements = request.sample_elements();
    f.available = result.usable;
    f.reason = result.reason;
    f.pearson = result.pearson;
    f.cosine = result.cosine;
    const bool finite = std::all_of(f.pearson.begin(), f.pearson.end(), [](double v) { return std::isfinite(v); });
    if (f.available && !finite) {
      f.available = false;
      f.reason = "a layer is constant (Pearson undefined)";
    }
    if (f.available) diagonal_test(f, seed);
    all.push_back(std::move(f));
  }
  return all;
}

depth_alignment align_depth(const std::vector<cross_layer_figures>& roles, std::uint64_t seed) {
  depth_alignment d;
  std::map<std::int32_t, std::size_t> index_a, index_b;
  for (const auto& f : roles) {
    if (!f.available) continue;
    for (const auto layer : f.layers_a) index_a.emplace(layer, 0);
    for (const auto layer : f.layers_b) index_b.emplace(layer, 0);
  }
  if (index_a.size() < 2 || index_b.size() < 2) {
    d.reason = "fewer than two layers with cross-layer matrices on a side";
    return d;
  }
  for (auto& [layer, i] : index_a) {
    i = d.layers_a.size();
    d.layers_a.push_back(layer);
  }
  for (auto& [layer, j] : index_b) {
    j = d.layers_b.size();
    d.layers_b.push_back(layer);
  }
  const std::size_t rows = d.layers_a.size(), columns = d.layers_b.size();
  std::vector<double> total(rows * columns, 0.0);
  std::vector<std::uint32_t> count(rows * columns, 0);
  for (const auto& f : roles) {
    if (!f.available) continue;
    for (std::size_t i = 0; i < f.layers_a.size(); ++i)
      for (std::size_t j = 0; j < f.layers_b.size(); ++j) {
        const std::size_t cell = index_a[f.layers_a[i]] * columns + index_b[f.layers_b[j]];
        total[cell] += f.pearson[i * f.layers_b.size() + j];
        ++count[cell];
      }
  }
  d.similarity.resize(rows * columns);
  for (std::size_t cell = 0; cell < total.size(); ++cell)
    d.similarity[cell] = count[cell] ? total[cell] / count[cell] : 0.0;

  std::vector<std::size_t> order(columns);
  for (std::size_t j = 0; j < columns; ++j) order[j] = j;
  std::vector<std::size_t> matched;
  const double observed = best_monotone_path(d.similarity, rows, columns, order, &matched);
  d.score = observed / static_cast<double>(columns);
  d.is_identity = true;
  std::vector<bool> used(rows, false);
  for (std::size_t j = 0; j < columns; ++j) {
    d.matched_a.push_back(d.layers_a[matched[j]]);
    used[matched[j]] = true;
    d.is_identity = d.is_identity && d.layers_a[matched[j]] == d.layers_b[j];
    d.repeated += j > 0 && matched[j] == matched[j - 1];
  }
  d.skipped_a = static_cast<std::size_t>(std::count(used.begin(), used.end(), false));

  random_stream stream(seed, "layer-order shuffles", "depth alignment");
  std::vector<std::uint32_t> shuffled(columns);
  std::vector<double> null;
  for (std::uint32_t k = 0; k < layer_order_permutations; ++k) {
    random_permutation(stream, shuffled);
    for (std::size_t j = 0; j < columns; ++j) order[j] = shuffled[j];
    null.push_back(best_monotone_path(d.similarity, rows, columns, order, nullptr));
  }
  const randomized_test t = permutation_test(observed, null, 1 - stream.uniform());
  d.permutations = layer_order_permutations;
  d.z = t.z;
  d.p_value = t.p;
  d.available = true;
  return d;
}

}  // namespace lineage
