#include "core/assignment.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.hpp"

namespace lineage {
namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();
constexpr std::int32_t none = -1;

// The Jonker–Volgenant method for a square n × n cost matrix (minimisation), after their 1987
// paper: two cheap phases that assign most rows of a dense matrix directly — column reduction
// with reduction transfer, then augmenting row reduction — and shortest augmenting paths
// (Dijkstra on reduced costs) for the rows still free. Column potentials v keep every reduced
// cost c[i][j] − v[j] of an assigned pair minimal in its row.
class square_solver {
 public:
  square_solver(const std::vector<double>& cost, std::size_t n)
      : cost_(cost), n_(n), row_of_(n, none), column_of_(n, none), v_(n, 0.0) {}

  std::vector<std::int32_t> solve() {
    std::vector<std::size_t> free_rows = reduce_columns();
    // Two rounds of augmenting row reduction, as the paper recommends.
    for (int round = 0; round < 2 && !free_rows.empty(); ++round) free_rows = reduce_rows(free_rows);
    for (const std::size_t row : free_rows) augment(row);
    return column_of_;
  }

 private:
  [[nodiscard]] double c(std::size_t i, std::size_t j) const { return cost_[i * n_ + j]; }

  void assign(std::size_t i, std::size_t j) {
    column_of_[i] = static_cast<std::int32_t>(j);
    row_of_[j] = static_cast<std::int32_t>(i);
  }

  // Column reduction: v[j] = min_i c[i][j], each column to its cheapest row while that row is free
  // (columns in reverse order, as in the paper); then reduction transfer for rows that received
  // exactly one column. Returns the rows left free.
  std::vector<std::size_t> reduce_columns() {
    std::vector<std::size_t> cheapest(n_, 0);
    std::fill(v_.begin(), v_.end(), infinity);
    for (std::size_t i = 0; i < n_; ++i)
      for (std::size_t j = 0; j < n_; ++j)
        if (c(i, j) < v_[j]) {
          v_[j] = c(i, j);
          cheapest[j] = i;
        }
    std::vector<bool> unique(n_, true);
    for (std::size_t j = n_; j-- > 0;) {
      const std::size_t i = cheapest[j];
      if (column_of_[i] == none)
        assign(i, j);
      else
        unique[i] = false;
    }
    std::vector<std::size_t> free_rows;
    for (std::size_t i = 0; i < n_; ++i) {
      if (column_of_[i] == none) {
        free_rows.push_back(i);
      } else if (unique[i]) {
        const auto j1 = static_cast<std::size_t>(column_of_[i]);
        double least = infinity;
        for (std::size_t j = 0; j < n_; ++j)
          if (j != j1) least = std::min(least, c(i, j) - v_[j]);
        if (std::isfinite(least)) v_[j1] -= least;
      }
    }
    return free_rows;
  }

  // Augmenting row reduction: each free row takes the column of its smallest reduced cost,
  // lowering that column's potential to the second smallest, and the row it displaces becomes
  // free again. Returns the rows still free.
  std::vector<std::size_t> reduce_rows(std::vector<std::size_t> free_rows) {
    std::size_t current = 0, still_free = 0, steps = 0;
    const std::size_t count = free_rows.size();
    while (current < count) {
      ++steps;
      const std::size_t row = free_rows[current++];
      std::size_t j1 = 0, j2 = n_;
      double u1 = c(row, 0) - v_[0], u2 = infinity;
      for (std::size_t j = 1; j < n_; ++j) {
        const double h = c(row, j) - v_[j];
        if (h < u2) {
          if (h >= u1) {
            u2 = h;
            j2 = j;
          } else {
            u2 = u1;
            u1 = h;
            j2 = j1;
            j1 = j;
          }
        }
      }
      std::int32_t displaced = row_of_[j1];
      const double lowered = v_[j1] - (u2 - u1);
      const bool lowers = lowered < v_[j1];
      if (steps < current * n_) {
        if (lowers) {
          v_[j1] = lowered;
        } else if (displaced != none && j2 < n_) {
          j1 = j2;
          displaced = row_of_[j2];
        }
        if (displaced != none) {
          if (lowers)
            free_rows[--current] = static_cast<std::size_t>(displaced);
          else
            free_rows[still_free++] = static_cast<std::size_t>(displaced);
        }
      } else if (displaced != none) {
        free_rows[still_free++] = static_cast<std::size_t>(displaced);
      }
      if (displaced != none) column_of_[static_cast<std::size_t>(displaced)] = none;
      assign(row, j1);
    }
    free_rows.resize(still_free);
    return free_rows;
  }

  // A shortest augmenting path from the free row `start` to a free column (Dijkstra on reduced
  // costs, columns settled in groups of equal distance), then the potentials of the settled
  // columns are updated and the path flipped.
  void augment(std::size_t start) {
    std::vector<double> distance(n_);
    std::vector<std::size_t> predecessor(n_, start), columns(n_);
    std::iota(columns.begin(), columns.end(), std::size_t{0});
    for (std::size_t j = 0; j < n_; ++j) distance[j] = c(start, j) - v_[j];
    // columns[0, low): settled; [low, high): at the current smallest distance; [high, n): to scan.
    std::size_t low = 0, high = 0, settled = 0;
    std::size_t end = n_;
    double level = 0;  // the distance of the columns in [low, high), and of the free column found
    while (end == n_) {
      if (low == high) {
        settled = low;
        double least = distance[columns[high]];
        ++high;
        for (std::size_t k = high; k < n_; ++k) {
          const std::size_t j = columns[k];
          if (distance[j] <= least) {
            if (distance[j] < least) {
              high = low;
              least = distance[j];
            }
            columns[k] = columns[high];
            columns[high++] = j;
          }
        }
        level = least;
        for (std::size_t k = low; k < high; ++k)
          if (row_of_[columns[k]] == none) {
            end = columns[k];
            break;
          }
      }
      if (end == n_) end = scan(low, high, distance, columns, predecessor);
    }
    // Not distance[columns[low]]: when the scan finds the free column while relaxing the last column
    // of its level, columns[low] is already a column of a farther level.
    for (std::size_t k = 0; k < settled; ++k) {
      const std::size_t j = columns[k];
      v_[j] += distance[j] - level;
    }
    // Flip the path back to the start row.
    std::size_t j = end;
    while (true) {
      const std::size_t i = predecessor[j];
      row_of_[j] = static_cast<std::int32_t>(i);
      const std::int32_t previous = column_of_[i];
      column_of_[i] = static_cast<std::int32_t>(j);
      if (i == start) break;
      j = static_cast<std::size_t>(previous);
    }
  }

  // Relaxes the columns still to scan through the rows of the columns at the smallest distance.
  // Returns a free column reached at that distance, or n when there is none yet.
  std::size_t scan(std::size_t& low, std::size_t& high, std::vector<double>& distance,
                   std::vector<std::size_t>& columns, std::vector<std::size_t>& predecessor) {
    while (low != high) {
      const std::size_t j = columns[low++];
      const auto i = static_cast<std::size_t>(row_of_[j]);
      const double least = distance[j];
      const double h = c(i, j) - v_[j] - least;
      for (std::size_t k = high; k < n_; ++k) {
        const std::size_t other = columns[k];
        const double reduced = c(i, other) - v_[other] - h;
        if (reduced < distance[other]) {
          distance[other] = reduced;
          predecessor[other] = i;
          if (reduced == least) {
            if (row_of_[other] == none) return other;
            columns[k] = columns[high];
            columns[high++] = other;
          }
        }
      }
    }
    return n_;
  }

  const std::vector<double>& cost_;
  std::size_t n_;
  std::vector<std::int32_t> row_of_, column_of_;
  std::vector<double> v_;
};

}  // namespace

std::vector<std::int32_t> maximum_assignment(std::span<const double> score, std::size_t rows, std::size_t columns) {
  if (score.size() != rows * columns) throw internal_error("maximum_assignment: score size does not match its shape");
  for (const double s : score)
    if (!std::isfinite(s)) throw internal_error("maximum_assignment: score is not finite");
  if (rows == 0 || columns == 0) return std::vector<std::int32_t>(rows, none);
  // Square up with rows or columns of cost 0 (they take what is left over), and minimise −score.
  const std::size_t n = std::max(rows, columns);
  std::vector<double> cost(n * n, 0.0);
  for (std::size_t i = 0; i < rows; ++i)
    for (std::size_t j = 0; j < columns; ++j) cost[i * n + j] = -score[i * columns + j];
  const std::vector<std::int32_t> square = square_solver(cost, n).solve();
  std::vector<std::int32_t> assigned(rows, none);
  for (std::size_t i = 0; i < rows; ++i)
    if (square[i] != none && static_cast<std::size_t>(square[i]) < columns) assigned[i] = square[i];
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
