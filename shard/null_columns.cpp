// Nulls whose units are column blocks (the hidden columns of an embedding, the neuron columns of
// down_proj, the value columns of o_proj, the elements of a vector): each slice runs down every
// row, so the pass streams the rows (or the explicit row pairs of shared tokens) once.
#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "shard/kernel.hpp"
#include "shard/null_columns.hpp"

namespace lineage {
namespace {

double slice_dot(const float* x, const float* y, std::uint64_t inner) {
  double sum = 0;
  for (std::uint64_t t = 0; t < inner; ++t) sum += static_cast<double>(x[t]) * y[t];
  return sum;
}

// Rows handed out `chunk` at a time as contiguous copies (each side's rows may be decoded one at a
// time, so a pointer to the previous row does not survive the next).
constexpr std::uint64_t chunk_rows = 64;

}  // namespace

row_pair row_at(const null_request& request, std::uint64_t k) {
  return request.explicit_pairs() ? row_pair{request.rows_a[k], request.rows_b[k]} : row_pair{k, k};
}

void columns_direct(const null_request& request, const std::vector<std::uint32_t>& units, null_rows& a,
                    null_rows& b, null_samples& out) {
  const std::size_t n = units.size(), draws = request.permutations;
  const std::uint64_t inner = request.inner;
  // Offsets in a row: A's slice i, and B's slice that meets it under each draw (the identity last).
  std::vector<std::uint64_t> offset_a(n), offset_b((draws + 1) * n);
  for (std::size_t i = 0; i < n; ++i) offset_a[i] = units[i] * inner;
  const auto perms = unit_draws(request, n);
  for (std::size_t k = 0; k <= draws; ++k)
    for (std::size_t i = 0; i < n; ++i) offset_b[k * n + i] = units[k < draws ? perms[k][i] : i] * inner;
  std::vector<double> totals(draws + 1, 0.0), partial(out.directions ? (draws + 1) * n : 0, 0.0);
  std::vector<double> squares_a(n, 0.0), squares_b(n, 0.0);
  std::vector<float> row_a(a.length());
  for (std::uint64_t r = 0; r < request.outer_rows(); ++r) {
    const row_pair at = row_at(request, r);
    const float* x = a.row(at.a);
    std::copy(x, x + a.length(), row_a.begin());
    const float* y = b.row(at.b);
    for (std::size_t i = 0; i < n; ++i) {
      squares_a[i] += slice_dot(row_a.data() + offset_a[i], row_a.data() + offset_a[i], inner);
      squares_b[i] += slice_dot(y + offset_a[i], y + offset_a[i], inner);
    }
    for (std::size_t k = 0; k <= draws; ++k) {
      const std::uint64_t* to = offset_b.data() + k * n;
      double total = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double dot = slice_dot(row_a.data() + offset_a[i], y + to[i], inner);
        total += dot;
        if (!partial.empty()) partial[k * n + i] += dot;
      }
      totals[k] += total;
    }
  }
  std::copy_n(totals.begin(), draws, out.t.begin());
  out.observed = totals[draws];
  if (!out.directions) return;
  // Slice norms follow the unit to whichever position a draw takes it; B's slice i was summed at
  // its own offset, which is unit units[i].
  std::vector<double> norm_a(n), norm_b(n);
  for (std::size_t i = 0; i < n; ++i) norm_a[i] = std::sqrt(squares_a[i]), norm_b[i] = std::sqrt(squares_b[i]);
  for (std::size_t k = 0; k <= draws; ++k) {
    double d = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t j = k < draws ? perms[k][i] : i;
      const double scale = norm_a[i] * norm_b[j];
      if (scale > 0) d += partial[k * n + i] / scale;
    }
    (k < draws ? out.direction_t[k] : out.direction_observed) = d;
  }
}

void columns_products(const null_request& request, const std::vector<std::uint32_t>& units, null_rows& a,
                      null_rows& b, product_table& table, const null_samples& out) {
  const std::uint64_t inner = request.inner, rows = request.outer_rows();
  const auto& kernel = best_kernel();
  std::vector<double> squares_a(units.size(), 0.0), squares_b(units.size(), 0.0);
  std::vector<float> block_a(chunk_rows * a.length()), block_b(chunk_rows * b.length());
  for (std::uint64_t first = 0; first < rows; first += chunk_rows) {
    const std::uint64_t count = std::min(chunk_rows, rows - first);
    for (std::uint64_t r = 0; r < count; ++r) {
      const row_pair at = row_at(request, first + r);
      const float* x = a.row(at.a);
      std::copy(x, x + a.length(), block_a.begin() + static_cast<std::ptrdiff_t>(r * a.length()));
      const float* y = b.row(at.b);
      std::copy(y, y + b.length(), block_b.begin() + static_cast<std::ptrdiff_t>(r * b.length()));
    }
    const std::uint64_t length = count * inner;  // of one slice within the chunk
    for (auto& cell : table.cells()) {
      // The cell's slices, each the concatenation of its piece of every row of the chunk.
      const auto slices = [&](const std::vector<float>& block, const std::vector<std::uint32_t>& members) {
        std::vector<float> matrix(members.size() * length);
        for (std::size_t k = 0; k < members.size(); ++k)
          for (std::uint64_t r = 0; r < count; ++r)
            std::copy_n(block.begin() + static_cast<std::ptrdiff_t>(r * a.length() + units[members[k]] * inner), inner,
                        matrix.begin() + static_cast<std::ptrdiff_t>(k * length + r * inner));
        return matrix;
      };
      const auto matrix_a = slices(block_a, cell.units_a), matrix_b = slices(block_b, cell.units_b);
      std::vector<double> products(cell.products.size());
      kernel.dot_matrix(matrix_a.data(), cell.units_a.size(), matrix_b.data(), cell.units_b.size(), length,
                        products.data());
      for (std::size_t e = 0; e < products.size(); ++e) cell.products[e] += products[e];
      for (std::size_t k = 0; k < cell.units_a.size(); ++k)
        squares_a[cell.units_a[k]] += kernel.row_dot(matrix_a.data() + k * length, matrix_a.data() + k * length, length);
      for (std::size_t k = 0; k < cell.units_b.size(); ++k)
        squares_b[cell.units_b[k]] += kernel.row_dot(matrix_b.data() + k * length, matrix_b.data() + k * length, length);
    }
  }
  if (!out.directions) return;
  for (auto& cell : table.cells())
    for (std::size_t i = 0; i < cell.units_a.size(); ++i)
      for (std::size_t j = 0; j < cell.units_b.size(); ++j) {
        const double scale = std::sqrt(squares_a[cell.units_a[i]]) * std::sqrt(squares_b[cell.units_b[j]]);
        const std::size_t at = i * cell.units_b.size() + j;
        cell.directions[at] = scale > 0 ? cell.products[at] / scale : 0.0;
      }
}

pair_moments columns_tested_moments(const null_request& request, const std::vector<std::uint32_t>& units,
                                    null_rows& a, null_rows& b) {
  pair_moments tested;
  const std::uint64_t inner = request.inner;
  std::vector<float> row_a(units.size() * inner), row_b(row_a.size());
  for (std::uint64_t r = 0; r < request.outer_rows(); ++r) {
    const row_pair at = row_at(request, r);
    const float* x = a.row(at.a);
    for (std::size_t i = 0; i < units.size(); ++i)
      std::copy_n(x + units[i] * inner, inner, row_a.begin() + static_cast<std::ptrdiff_t>(i * inner));
    const float* y = b.row(at.b);
    for (std::size_t i = 0; i < units.size(); ++i)
      std::copy_n(y + units[i] * inner, inner, row_b.begin() + static_cast<std::ptrdiff_t>(i * inner));
    const auto bytes = [](const std::vector<float>& v) { return reinterpret_cast<const std::byte*>(v.data()); };
    const pair_moments row = pair_moments::from_block(
        compute_block_sums({bytes(row_a), dtype::f32}, {bytes(row_b), dtype::f32}, row_a.size()));
    if (r == 0)
      tested = row;
    else
      tested.merge(row);
  }
  return tested;
}

}  // namespace lineage
