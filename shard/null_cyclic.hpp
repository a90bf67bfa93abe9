#pragma once
// The null of a cyclic group (symmetry_group::form::cyclic) computed directly: all n − 1 shifts of
// the units' random order σ at once. Under shift s, A's unit at position j of σ meets B's unit at
// position j + s, so T_s and D_s are sums, over the lines that run along the permuted axis (the
// columns of an axis-0 matrix, the rows × inner offsets of an axis-1 one), of cyclic
// cross-correlations of the lines read in σ's order (shard/cyclic_correlation.hpp): two passes of
// FFTs instead of K passes of multiply-adds. D's lines are T's scaled by the slices' inverse norms
// (folded with the norm weights on axis 0). Internal to shard/permutation_null.cpp.
#include <cstdint>
#include <span>
#include <vector>

#include "shard/null_rows.hpp"
#include "shard/permutation_null.hpp"

namespace lineage {

// `units` maps tested units to rows or column blocks; `out` has t (and direction_t) sized K. On
// axis 0 with out.folded, rows are folded with `fold_a` and `fold_b` (the norm weights) for D.
void cyclic_null(const null_request& request, const std::vector<std::uint32_t>& units, null_rows& a,
                 null_rows& b, std::span<const float> fold_a, std::span<const float> fold_b, null_samples& out);

// Multiply-add equivalents of cyclic_null on `request` (for balancing ranks and lineage plan).
[[nodiscard]] std::uint64_t cyclic_null_cost(const null_request& request) noexcept;

}  // namespace lineage
