#pragma once
// Optimal linear assignment (the rectangular assignment problem): match rows to columns one to
// one so that the total score is largest. Used to match the experts of two MoE layers (and, later,
// the neurons of two MLP layers) before they are compared.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace lineage {

// `score` is rows × columns, row-major, finite. Returns, for each row, the column assigned to it,
// or −1 when there are more rows than columns and the row is left out. Exactly min(rows, columns)
// rows are assigned and no column twice. The Jonker–Volgenant method (column reduction,
// augmenting row reduction, shortest augmenting paths) on the matrix squared up with zeros;
// deterministic for a given input.
std::vector<std::int32_t> maximum_assignment(std::span<const double> score, std::size_t rows, std::size_t columns);

// The total score of `assignment` (as returned above).
double assignment_score(std::span<const double> score, std::size_t columns,
                        std::span<const std::int32_t> assignment);

}  // namespace lineage
