#pragma once
// Optimal assignment on a sparse bipartite graph: each row may take only the columns listed for it
// (its candidates). Used when the rows are a sample of objects and the columns many, so that a
// dense rows × columns problem would cost far more than the candidates that can win.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lineage {

// Row i's candidates are column[begin[i]], …, column[begin[i + 1] − 1], with their scores.
struct candidate_graph {
  std::size_t columns = 0;
  std::vector<std::size_t> begin{0};  // rows + 1 offsets
  std::vector<std::uint32_t> column;
  std::vector<double> score;

  [[nodiscard]] std::size_t rows() const noexcept { return begin.size() - 1; }
  void add(std::uint32_t j, double s) {
    column.push_back(j);
    score.push_back(s);
  }
  void end_row() { begin.push_back(column.size()); }
};

// Among the assignments that match as many rows as the candidates allow, the one of largest total
// score: rows in order, each by a shortest augmenting path (Dijkstra over the candidates' reduced
// costs, column potentials kept). Returns per row its column, or −1 for a row left out. Scores
// finite, a row's columns distinct and < columns; deterministic.
std::vector<std::int32_t> sparse_maximum_assignment(const candidate_graph& graph);

// The edge of `graph` that joins row `row` to `column`, or −1 (column −1, or not a candidate).
std::int64_t candidate_edge(const candidate_graph& graph, std::size_t row, std::int32_t column) noexcept;

// The total score of `assignment` (as returned above): the sparse counterpart of assignment_score.
double sparse_assignment_score(const candidate_graph& graph, const std::vector<std::int32_t>& assignment) noexcept;

}  // namespace lineage
