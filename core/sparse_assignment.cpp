#include "core/sparse_assignment.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <queue>
#include <utility>

#include "core/error.hpp"

namespace lineage {
namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();
constexpr std::int32_t none = -1;

// Successive shortest paths on costs −score. Invariant (as in Jonker–Volgenant): an assigned row's
// column has the smallest reduced cost c(i, j) − v[j] among the row's candidates, so every reduced
// edge cost along a path is ≥ 0 and Dijkstra applies.
//
// Each row also has a private column of its own at a cost larger than any difference of totals can
// be, so every row is assigned and the optimum matches as many rows as the candidates allow first,
// at the best total among those; a row left on its own column is returned unassigned.
class sparse_solver {
 public:
  explicit sparse_solver(const candidate_graph& g)
      : g_(g), columns_(g.columns + g.rows()), row_of_(columns_, none), column_of_(g.rows(), none), v_(columns_, 0.0),
        distance_(columns_, infinity), predecessor_(columns_, 0), settled_(columns_, false) {
    double bound = 1;
    for (std::size_t i = 0; i < g.rows(); ++i) {
      double largest = 0;
      for (std::size_t e = g.begin[i]; e < g.begin[i + 1]; ++e) largest = std::max(largest, std::abs(g.score[e]));
      bound += 2 * largest;
    }
    own_cost_ = bound;
  }

  std::vector<std::int32_t> solve() {
    for (std::size_t row = 0; row < g_.rows(); ++row) augment(row);
    for (std::int32_t& j : column_of_)
      if (j >= static_cast<std::int32_t>(g_.columns)) j = none;
    return column_of_;
  }

 private:
  using entry = std::pair<double, std::uint32_t>;  // (distance, column): ties broken by column

  [[nodiscard]] double reduced(std::size_t edge) const { return -g_.score[edge] - v_[g_.column[edge]]; }

  [[nodiscard]] std::uint32_t own_column(std::size_t i) const { return static_cast<std::uint32_t>(g_.columns + i); }
  [[nodiscard]] double own_reduced(std::size_t i) const { return own_cost_ - v_[own_column(i)]; }

  using queue = std::priority_queue<entry, std::vector<entry>, std::greater<>>;

  void offer(std::size_t i, std::uint32_t j, double d, queue& heap) {
    if (settled_[j] || d >= distance_[j]) return;
    if (distance_[j] == infinity) touched_.push_back(j);
    distance_[j] = d;
    predecessor_[j] = i;
    heap.emplace(d, j);
  }

  // Offers row i's candidates and its own column at `offset` + their reduced cost.
  void relax(std::size_t i, double offset, queue& heap) {
    for (std::size_t e = g_.begin[i]; e < g_.begin[i + 1]; ++e) offer(i, g_.column[e], offset + reduced(e), heap);
    offer(i, own_column(i), offset + own_reduced(i), heap);
  }

  // Row i's reduced cost on column j (a candidate of it, or its own column).
  [[nodiscard]] double reduced_at(std::size_t i, std::uint32_t j) const {
    if (j == own_column(i)) return own_reduced(i);
    const std::int64_t e = candidate_edge(g_, i, static_cast<std::int32_t>(j));
    if (e < 0) throw internal_error("sparse_maximum_assignment: a row holds a column that is not its candidate");
    return reduced(static_cast<std::size_t>(e));
  }

  // A shortest path from the free row `start` to a free column; one always exists (the row's own).
  void augment(std::size_t start) {
    queue heap;
    order_.clear();
    relax(start, 0.0, heap);
    std::int64_t end = none;
    while (end == none) {
      const auto [d, j] = heap.top();
      heap.pop();
      if (settled_[j] || d > distance_[j]) continue;
      settled_[j] = true;
      order_.push_back(j);
      if (row_of_[j] == none) {
        end = j;
        break;
      }
      // The path reaches row i at d; i leaves its column j at reduced cost c(i, j) − v[j].
      const auto i = static_cast<std::size_t>(row_of_[j]);
      relax(i, d - reduced_at(i, j), heap);
    }
    const double least = distance_[static_cast<std::size_t>(end)];
    for (const std::uint32_t j : order_) v_[j] += distance_[j] - least;
    flip(start, static_cast<std::size_t>(end));
    for (const std::uint32_t j : touched_) {
      distance_[j] = infinity;
      settled_[j] = false;
    }
    touched_.clear();
  }

  void flip(std::size_t start, std::size_t j) {
    while (true) {
      const std::size_t i = predecessor_[j];
      row_of_[j] = static_cast<std::int32_t>(i);
      const std::int32_t previous = column_of_[i];
      column_of_[i] = static_cast<std::int32_t>(j);
      if (i == start) return;
      j = static_cast<std::size_t>(previous);
    }
  }

  const candidate_graph& g_;
  std::size_t columns_;  // the candidates' columns, then one own column per row
  double own_cost_ = 1;  // the cost of a row's own column: above any difference of totals
  std::vector<std::int32_t> row_of_, column_of_;
  std::vector<double> v_, distance_;
  std::vector<std::size_t> predecessor_;
  std::vector<bool> settled_;
  std::vector<std::uint32_t> touched_, order_;
};

}  // namespace

std::int64_t candidate_edge(const candidate_graph& graph, std::size_t row, std::int32_t column) noexcept {
  if (column < 0 || row >= graph.rows()) return -1;
  for (std::size_t e = graph.begin[row]; e < graph.begin[row + 1]; ++e)
    if (graph.column[e] == static_cast<std::uint32_t>(column)) return static_cast<std::int64_t>(e);
  return -1;
}

double sparse_assignment_score(const candidate_graph& graph, const std::vector<std::int32_t>& assignment) noexcept {
  double total = 0;
  for (std::size_t i = 0; i < assignment.size(); ++i)
    if (const std::int64_t e = candidate_edge(graph, i, assignment[i]); e >= 0)
      total += graph.score[static_cast<std::size_t>(e)];
  return total;
}

std::vector<std::int32_t> sparse_maximum_assignment(const candidate_graph& graph) {
  if (graph.begin.empty() || graph.begin.back() != graph.column.size() || graph.column.size() != graph.score.size())
    throw internal_error("sparse_maximum_assignment: malformed candidate graph");
  for (std::size_t e = 0; e < graph.column.size(); ++e)
    if (graph.column[e] >= graph.columns || !std::isfinite(graph.score[e]))
      throw internal_error("sparse_maximum_assignment: a candidate out of range or not finite");
  return sparse_solver(graph).solve();
}

}  // namespace lineage
