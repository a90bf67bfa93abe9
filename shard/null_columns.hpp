#pragma once
// The axis-1 paths of a null (units are column blocks, each slice runs over every row): directly,
// from cross products, and the moments of a subset. Internal to shard/permutation_null.cpp.
#include <cstdint>
#include <vector>

#include "shard/null_products.hpp"
#include "shard/null_rows.hpp"
#include "shard/permutation_null.hpp"

namespace lineage {

// Rows of an axis-1 pass in order: A's row and B's row of step k (the explicit pairs, or k and k).
struct row_pair {
  std::uint64_t a = 0, b = 0;
};
[[nodiscard]] row_pair row_at(const null_request& request, std::uint64_t k);

// `units` maps tested units to column blocks; `out` has t (and direction_t) sized K.
void columns_direct(const null_request& request, const std::vector<std::uint32_t>& units, null_rows& a,
                    null_rows& b, null_samples& out);
// Fills `table`'s products and directions.
void columns_products(const null_request& request, const std::vector<std::uint32_t>& units, null_rows& a,
                      null_rows& b, product_table& table, const null_samples& out);
// The moments of the tested elements, row by row in order, in the block kernel's arithmetic.
pair_moments columns_tested_moments(const null_request& request, const std::vector<std::uint32_t>& units,
                                    null_rows& a, null_rows& b);

// The K draws of the request's unit over its n tested units, in order.
std::vector<std::vector<std::uint32_t>> unit_draws(const null_request& request, std::size_t n);

}  // namespace lineage
