#include "shard/null_products.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace lineage {

product_form products_needed(const symmetry_group& group) noexcept {
  switch (group.kind) {
    case symmetry_group::form::plain:
    case symmetry_group::form::cyclic: return product_form::all_pairs;
    case symmetry_group::form::heads: return group.within > 0 ? product_form::all_pairs : product_form::block_traces;
    case symmetry_group::form::within: return product_form::within_blocks;
  }
  return product_form::all_pairs;
}

std::uint64_t product_entries(const null_request& request) noexcept {
  const std::uint64_t n = request.tested_units(), size = request.layout.block_size;
  switch (products_needed(request.group)) {
    case product_form::all_pairs: return n * n;
    case product_form::block_traces: return size == 0 ? 0 : (n / size) * (n / size) * size;
    case product_form::within_blocks: return n * size;
  }
  return n * n;
}

product_table::product_table(const null_request& request, std::uint64_t units) {
  const auto n = static_cast<std::uint32_t>(units);
  const auto size = static_cast<std::uint32_t>(std::max<std::uint64_t>(1, request.layout.block_size));
  cell_of_.assign(n, 0);
  position_a_.assign(n, 0);
  position_b_.assign(n, 0);
  const auto add = [&](std::vector<std::uint32_t> members) {
    const auto cell = static_cast<std::uint32_t>(cells_.size());
    for (std::uint32_t k = 0; k < members.size(); ++k) {
      cell_of_[members[k]] = cell;
      position_a_[members[k]] = position_b_[members[k]] = k;
    }
    cells_.push_back({members, std::move(members), {}, {}});
  };
  form_ = products_needed(request.group);
  block_size_ = size;
  switch (form_) {
    case product_form::all_pairs: {
      std::vector<std::uint32_t> all(n);
      for (std::uint32_t i = 0; i < n; ++i) all[i] = i;
      add(std::move(all));
      break;
    }
    case product_form::block_traces:
      for (std::uint32_t d = 0; d < size; ++d) {
        std::vector<std::uint32_t> offset;
        for (std::uint32_t u = d; u < n; u += size) offset.push_back(u);
        add(std::move(offset));
      }
      break;
    case product_form::within_blocks:
      for (std::uint32_t b = 0; b < n; b += size) {
        std::vector<std::uint32_t> block;
        for (std::uint32_t u = b; u < b + size && u < n; ++u) block.push_back(u);
        add(std::move(block));
      }
      break;
  }
  for (auto& cell : cells_) {
    cell.products.assign(cell.units_a.size() * cell.units_b.size(), 0.0);
    cell.directions.assign(cell.products.size(), 0.0);
  }
}

void product_table::prepare_draws() {
  if (form_ != product_form::block_traces || cells_.size() != block_size_ || cell_of_.size() % block_size_ != 0) {
    for (product_cell& cell : cells_) {
      cell.pairs.resize(2 * cell.products.size());
      for (std::size_t k = 0; k < cell.products.size(); ++k)
        cell.pairs[2 * k] = cell.products[k], cell.pairs[2 * k + 1] = cell.directions[k];
      cell.products = {};
      cell.directions = {};
    }
    row_start_.resize(cell_of_.size());
    column_offset_.resize(cell_of_.size());
    for (std::size_t i = 0; i < cell_of_.size(); ++i) {
      const product_cell& cell = cells_.at(cell_of_[i]);
      row_start_[i] = cell.pairs.data() + 2 * std::size_t{position_a_[i]} * cell.units_b.size();
      column_offset_[i] = 2 * position_b_[i];
    }
    return;
  }
  blocks_ = static_cast<std::uint32_t>(cell_of_.size() / block_size_);
  block_products_.assign(std::size_t{blocks_} * blocks_, 0.0);
  block_directions_.assign(block_products_.size(), 0.0);
  for (const product_cell& cell : cells_) {  // cell d: offset d of every block, block b at position b
    if (cell.units_a.size() != blocks_ || cell.units_b.size() != blocks_)
      throw internal_error("null from products: an offset cell does not span the blocks");
    for (std::size_t k = 0; k < block_products_.size(); ++k) {
      block_products_[k] += cell.products[k];
      block_directions_[k] += cell.directions[k];
    }
  }
}

void product_table::sample(const std::uint32_t* perm, double& t, double& d) const {
  // Summed in locals and stored once: adding into the references kept them in memory (t and d may
  // alias the tables, as far as the compiler knows), and every unit waited on a store.
  double sum_t = 0, sum_d = 0;
  if (blocks_ != 0) {
    for (std::uint32_t b = 0; b < blocks_; ++b) {
      const std::uint32_t first = perm ? perm[std::size_t{b} * block_size_] : b * block_size_;
      if (first % block_size_ != 0 || first / block_size_ >= blocks_)
        throw internal_error("null from products: a draw split a block");
      const std::size_t at = std::size_t{b} * blocks_ + first / block_size_;
      sum_t += block_products_[at];
      sum_d += block_directions_[at];
    }
  } else {
    for (std::size_t i = 0; i < cell_of_.size(); ++i) {
      const std::uint32_t j = perm ? perm[i] : static_cast<std::uint32_t>(i);
      if (cell_of_[j] != cell_of_[i]) throw internal_error("null from products: a draw left its cell");
      const double* pair = row_start_[i] + column_offset_[j];
      sum_t += pair[0];
      sum_d += pair[1];
    }
  }
  t = sum_t;
  d = sum_d;
}

}  // namespace lineage
