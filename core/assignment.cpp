#include "core/assignment.hpp"

#include <cmath>
#include <limits>

#include "core/error.hpp"

namespace lineage {
namespace {

// The square-or-wide case (n ≤ m): every one of the n rows gets a column. Minimises Σ cost.
// Potentials u (rows) and v (columns) keep reduced costs non-negative; each row is added by a
// Dijkstra-like search for the cheapest augmenting path. Index 0 is a sentinel column.
std::vector<std::int32_t> assign_rows(const std::vector<double>& cost, std::size_t n, std::size_t m) {
  constexpr double infinity = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0.0), v(m + 1, 0.0);
  std::vector<std::size_t> owner(m + 1, 0), way(m + 1, 0);  // owner[j]: row (1-based) holding column j
  std::vector<double> least(m + 1);
  std::vector<bool> used(m + 1);
  for (std::size_t i = 1; i <= n; ++i) {
    owner[0] = i;
    std::size_t column = 0;
    std::fill(least.begin(), least.end(), infinity);
    std::fill(used.begin(), used.end(), false);
    do {
      used[column] = true;
      const std::size_t row = owner[column];
      double delta = infinity;
      std::size_t next = 0;
      for (std::size_t j = 1; j <= m; ++j) {
        if (used[j]) continue;
        const double reduced = cost[(row - 1) * m + (j - 1)] - u[row] - v[j];
        if (reduced < least[j]) {
          least[j] = reduced;
          way[j] = column;
        }
        if (least[j] < delta) {
          delta = least[j];
          next = j;
        }
      }
      for (std::size_t j = 0; j <= m; ++j) {
        if (used[j]) {
          u[owner[j]] += delta;
          v[j] -= delta;
        } else {
          least[j] -= delta;
        }
      }
      column = next;
    } while (owner[column] != 0);
    do {
      const std::size_t previous = way[column];
      owner[column] = owner[previous];
      column = previous;
    } while (column != 0);
  }
  std::vector<std::int32_t> assigned(n, -1);
  for (std::size_t j = 1; j <= m; ++j)
    if (owner[j] != 0) assigned[owner[j] - 1] = static_cast<std::int32_t>(j - 1);
  return assigned;
}

}  // namespace

std::vector<std::int32_t> maximum_assignment(std::span<const double> score, std::size_t rows, std::size_t columns) {
  if (score.size() != rows * columns) throw internal_error("maximum_assignment: score size does not match its shape");
  for (const double s : score)
    if (!std::isfinite(s)) throw internal_error("maximum_assignment: score is not finite");
  if (rows == 0 || columns == 0) return std::vector<std::int32_t>(rows, -1);
  if (rows <= columns) {
    std::vector<double> cost(score.size());
    for (std::size_t k = 0; k < score.size(); ++k) cost[k] = -score[k];
    return assign_rows(cost, rows, columns);
  }
  // More rows than columns: assign every column to a row on the transposed problem.
  std::vector<double> cost(score.size());
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < columns; ++j) cost[j * rows + i] = -score[i * columns + j];
  const auto column_rows = assign_rows(cost, columns, rows);
  std::vector<std::int32_t> assigned(rows, -1);
  for (std::size_t j = 0; j < columns; ++j) assigned[static_cast<std::size_t>(column_rows[j])] = static_cast<std::int32_t>(j);
  return assigned;
}

double assignment_score(std::span<const double> score, std::size_t columns,
                        std::span<const std::int32_t> assignment) {
  double total = 0;
  for (std::size_t i = 0; i < assignment.size(); ++i)
    if (assignment[i] >= 0) total += score[i * columns + static_cast<std::size_t>(assignment[i])];
  return total;
}

}  // namespace lineage
