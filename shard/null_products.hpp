#pragma once
// A null from cross products: one pass over the pair computes the dot products of every pair of
// slices that the unit's group can bring together, after which each draw costs O(units). The
// group decides which pairs those are (permutation_null.hpp, product_form): all of them, those at
// the same offset inside head blocks, or those inside one block. Internal to the null.
#include <cstdint>
#include <vector>

#include "shard/permutation_null.hpp"

namespace lineage {

// Slices of A meet slices of B only inside a cell; its products are row-major units_a × units_b.
struct product_cell {
  std::vector<std::uint32_t> units_a, units_b;  // tested-unit indices
  std::vector<double> products, directions;     // ⟨Aᵢ, Bⱼ⟩ and cos(Âᵢ, B̂ⱼ) (0 where a slice is zero)
  std::vector<double> pairs;                    // both interleaved, once arranged for the draws
};

class product_table {
 public:
  // The cells of `request`'s group over its `units` tested units.
  product_table(const null_request& request, std::uint64_t units);
  // prepare_draws() keeps pointers into the cells' arrays: not copied.
  product_table(const product_table&) = delete;
  product_table& operator=(const product_table&) = delete;

  [[nodiscard]] std::vector<product_cell>& cells() noexcept { return cells_; }
  [[nodiscard]] const std::vector<product_cell>& cells() const noexcept { return cells_; }
  // Once the products are in, arranges them for the draws (the cells' own arrays are released). A
  // group whose draws move whole blocks with their offsets (heads, nothing permuted inside:
  // product_form::block_traces) gives T = Σ_b Q[b][π(b)] with Q[b][b'] = Σ_d P_d[b][b'], so the
  // table is folded to blocks × blocks and a draw costs O(blocks) instead of O(units). Other forms
  // keep each cell's product and direction side by side, so that a draw's lookup of a pair, a
  // random place in a table larger than the L2 cache, fetches one cache line, not two.
  void prepare_draws();
  // T and D of the draw that pairs tested unit i of A with unit perm[i] of B (identity: null).
  void sample(const std::uint32_t* perm, double& t, double& d) const;

 private:
  std::vector<product_cell> cells_;
  std::vector<std::uint32_t> cell_of_, position_a_, position_b_;
  product_form form_ = product_form::all_pairs;
  std::uint32_t block_size_ = 1, blocks_ = 0;
  std::vector<double> block_products_, block_directions_;  // blocks × blocks once folded
  // Once arranged for the draws (other forms): where unit i of A's row of pairs starts in its cell,
  // and where unit j of B sits in such a row (doubles from the row's start).
  std::vector<const double*> row_start_;
  std::vector<std::uint32_t> column_offset_;
};

}  // namespace lineage
