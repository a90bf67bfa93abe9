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

// The `keep` largest of one row's coarse similarities, appended to `chosen` (ties: lower column):
// one pass keeping the best so far in a heap whose top is the worst of them, so that most columns
// cost one comparison. The order is strict (value, then column), so the set is the one a full
// sort would give; the caller sorts each row's list.
void best_columns(const double* row, std::size_t columns, std::size_t keep, bool by_magnitude,
                  std::vector<std::pair<double, std::uint32_t>>& heap, std::vector<std::uint32_t>& chosen) {
  const auto better = [](const auto& x, const auto& y) { return x.first > y.first || (x.first == y.first && x.second < y.second); };
  const std::size_t count = std::min(keep, columns);
  heap.clear();
  for (std::size_t j = 0; j < columns; ++j) {
    const std::pair<double, std::uint32_t> entry{by_magnitude ? std::abs(row[j]) : row[j], static_cast<std::uint32_t>(j)};
    if (heap.size() < count) {
      heap.push_back(entry);
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (better(entry, heap.front())) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = entry;
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
  for (const auto& entry : heap) chosen.push_back(entry.second);
}

// Per row, the union of every role's best coarse columns (ascending, distinct).
std::vector<std::vector<std::uint32_t>> coarse_candidates(std::span<const role_objects> roles, std::size_t rows,
                                                          std::size_t columns, std::size_t coarse, std::size_t keep,
                                                          bool by_magnitude) {
  std::vector<std::vector<std::uint32_t>> chosen(rows);
  std::vector<double> product(coarse_rows * columns);
  std::vector<std::pair<double, std::uint32_t>> heap;
  for (const role_objects& role : roles) {
    const object_vectors a = prefix_objects(*role.a, rows, coarse), b = prefix_objects(*role.b, columns, coarse);
    for (std::size_t first = 0; first < rows; first += coarse_rows) {
      const std::size_t count = std::min(coarse_rows, rows - first);
      dot_product_matrix(a.values.data() + first * a.length, count, b.values.data(), columns, a.length, product.data());
      for (std::size_t r = 0; r < count; ++r)
        best_columns(product.data() + r * columns, columns, keep, by_magnitude, heap, chosen[first + r]);
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
  // Each candidate's dot alone (a 1 × 1 product has the bits of the same dot inside a tile), read
  // where B's vector is instead of copied next to the others first.
  for (std::size_t r = 0; r < roles.size(); ++r) {
    const object_vectors &a = *roles[r].a, &b = *roles[r].b;
    const std::size_t length = a.length;
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t e = out.begin[i]; e < out.begin[i + 1]; ++e)
        dot_product_matrix(a.values.data() + i * length, 1, b.values.data() + std::size_t{out.column[e]} * length, 1,
                           length, out.by_role[r].data() + e);
  }
  return out;
}

candidate_similarities find_candidates(std::span<const role_objects> roles, std::size_t rows, std::size_t columns,
                                       std::size_t coarse, std::size_t keep, bool by_magnitude, const unit_team& team) {
  if (team.members() == 1) return find_candidates(roles, rows, columns, coarse, keep, by_magnitude);
  const auto share = team_share(team, rows, coarse_rows);
  const std::size_t first = share.first, end = share.second;
  auto parts = share_parts(team, [&] {
    std::vector<object_vectors> slices;
    std::vector<role_objects> mine;
    slices.reserve(roles.size());
    for (const role_objects& role : roles) {
      slices.push_back(object_slice(*role.a, first, end - first));
      mine.push_back({&slices.back(), role.b});
    }
    if (first == end) {
      candidate_similarities none;
      none.columns = columns;
      none.by_role.assign(roles.size(), {});
      return none;
    }
    return find_candidates(mine, end - first, columns, coarse, keep, by_magnitude);
  });
  candidate_similarities all = std::move(parts.front());
  for (std::size_t m = 1; m < parts.size(); ++m) all.append(parts[m]);
  return all;
}

object_vectors object_slice(const object_vectors& v, std::size_t first, std::size_t count) {
  if ((first + count) * v.length > v.values.size()) throw internal_error("object_slice: beyond the objects");
  object_vectors out;
  out.length = v.length;
  out.finite = v.finite;
  const auto begin = v.values.begin() + static_cast<std::ptrdiff_t>(first * v.length);
  out.values.assign(begin, begin + static_cast<std::ptrdiff_t>(count * v.length));
  return out;
}

void candidate_similarities::append(const candidate_similarities& next) {
  if (next.columns != columns || next.by_role.size() != by_role.size() || next.begin.empty())
    throw internal_error("candidate_similarities::append: other columns or roles");
  const std::size_t offset = column.size();
  for (std::size_t i = 1; i < next.begin.size(); ++i) begin.push_back(offset + next.begin[i]);
  column.insert(column.end(), next.column.begin(), next.column.end());
  for (std::size_t r = 0; r < by_role.size(); ++r)
    by_role[r].insert(by_role[r].end(), next.by_role[r].begin(), next.by_role[r].end());
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
