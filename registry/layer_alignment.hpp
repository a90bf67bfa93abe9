#pragma once
// Depth alignment for the search: when a query and a member have different numbers of layers (layers
// dropped, duplicated or inserted), which of A's layers meets which of B's. The pairing is one to
// one and keeps the order, so that no layer of B is tested twice (its units stay independent).
#include <cstddef>
#include <functional>
#include <utility>
#include <vector>

namespace lineage {

// The pairs (i, j), i and j strictly increasing, that maximise Σ score(i, j) over the pairs taken;
// a pair whose score is NaN is never taken, and one whose score is not positive adds nothing, so it
// is left out. Dynamic programming over rows × cols; ties go to the pairing found first.
[[nodiscard]] std::vector<std::pair<std::size_t, std::size_t>> monotone_alignment(
    std::size_t rows, std::size_t cols, const std::function<double(std::size_t, std::size_t)>& score);

}  // namespace lineage
