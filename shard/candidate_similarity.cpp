#include "shard/candidate_similarity.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/error.hpp"
#include "shard/kernel.hpp"

namespace lineage {
namespace {

// Rows of the coarse product computed at a time: the product is rows × columns doubles.
constexpr std::size_t coarse_rows = 64;

// The `keep` largest of one row's coarse similarities, appended to `chosen` (ties: lower column).
void best_columns(const double* row, std::size_t columns, std::size_t keep, bool by_magnitude,
                  std::vector<std::uint32_t>& chosen) {
  std::vector<std::pair<double, std::uint32_t>> ranked(columns);
  for (std::size_t j = 0; j < columns; ++j)
    ranked[j] = {by_magnitude ? std::abs(row[j]) : row[j], static_cast<std::uint32_t>(j)};
  const auto better = [](const auto& x, const auto& y) { return x.first > y.first || (x.first == y.first && x.second < y.second); };
  const std::size_t count = std::min(keep, columns);
  std::nth_element(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(count), ranked.end(), better);
  for (std::size_t k = 0; k < count; ++k) chosen.push_back(ranked[k].second);
}

// Per row, the union of every role's best coarse columns (ascending, distinct).
std::vector<std::vector<std::uint32_t>> coarse_candidates(std::span<const role_objects> roles, std::size_t rows,
                                                          std::size_t columns, std::size_t coarse, std::size_t keep,
                                                          bool by_magnitude) {
  std::vector<std::vector<std::uint32_t>> chosen(rows);
  std::vector<double> product(coarse_rows * columns);
  for (const role_objects& role : roles) {
    const object_vectors a = prefix_objects(*role.a, rows, coarse), b = prefix_objects(*role.b, columns, coarse);
    for (std::size_t first = 0; first < rows; first += coarse_rows) {
      const std::size_t count = std::min(coarse_rows, rows - first);
      dot_product_matrix(a.values.data() + first * a.length, count, b.values.data(), columns, a.length, product.data());
      for (std::size_t r = 0; r < count; ++r)
        best_columns(product.data() + r * columns, columns, keep, by_magnitude, chosen[first + r]);
    }
  }
  for (auto& list : chosen) {
    std::sort(list.begin(), list.end());
    list.erase(std::unique(list.begin(), list.end()), list.end());
  }
  return chosen;
}

}  // namespace

object_vectors prefix_objects(const object_vectors& v, std::size_t objects, std::size_t length) {
  if (length > v.length) throw internal_error("prefix_objects: the prefix is longer than the vectors");
  object_vectors out;
  out.length = length;
  out.finite = v.finite;
  out.values.resize(objects * length);
  for (std::size_t i = 0; i < objects; ++i)
    std::copy_n(v.values.begin() + static_cast<std::ptrdiff_t>(i * v.length), length,
                out.values.begin() + static_cast<std::ptrdiff_t>(i * length));
  standardise(out, objects);
  return out;
}

candidate_similarities find_candidates(std::span<const role_objects> roles, std::size_t rows, std::size_t columns,
                                       std::size_t coarse, std::size_t keep, bool by_magnitude) {
  if (roles.empty() || coarse == 0 || keep == 0) throw internal_error("find_candidates: nothing to compare");
  const auto chosen = coarse_candidates(roles, rows, columns, coarse, keep, by_magnitude);
  candidate_similarities out;
  out.columns = columns;
  for (const auto& list : chosen) {
    out.column.insert(out.column.end(), list.begin(), list.end());
    out.begin.push_back(out.column.size());
  }
  out.by_role.assign(roles.size(), std::vector<double>(out.column.size()));
  std::vector<float> gathered;
  for (std::size_t r = 0; r < roles.size(); ++r) {
    const object_vectors &a = *roles[r].a, &b = *roles[r].b;
    const std::size_t length = a.length;
    for (std::size_t i = 0; i < rows; ++i) {
      const std::size_t first = out.begin[i], count = out.begin[i + 1] - first;
      gathered.resize(count * length);
      for (std::size_t k = 0; k < count; ++k)
        std::copy_n(b.values.begin() + static_cast<std::ptrdiff_t>(out.column[first + k] * length), length,
                    gathered.begin() + static_cast<std::ptrdiff_t>(k * length));
      dot_product_matrix(a.values.data() + i * length, 1, gathered.data(), count, length, out.by_role[r].data() + first);
    }
  }
  return out;
}

candidate_graph candidate_similarities::graph(std::size_t role, bool magnitude) const {
  candidate_graph g;
  g.columns = columns;
  g.begin = begin;
  g.column = column;
  g.score.resize(column.size());
  for (std::size_t e = 0; e < column.size(); ++e) {
    if (role < by_role.size()) {
      g.score[e] = by_role[role][e];
      continue;
    }
    double sum = 0;
    for (const auto& scores : by_role) sum += scores[e];
    g.score[e] = sum / static_cast<double>(by_role.size());
  }
  if (magnitude)
    for (double& v : g.score) v = std::abs(v);
  return g;
}

}  // namespace lineage
