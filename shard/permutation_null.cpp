#include "shard/permutation_null.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "shard/decode.hpp"
#include "shard/kernel.hpp"
#include "shard/null_columns.hpp"
#include "shard/null_cyclic.hpp"

namespace lineage {

std::uint64_t null_request::cost() const noexcept {
  const std::uint64_t pass = pass_cost();
  if (!from_products && group.kind == symmetry_group::form::cyclic) return cyclic_null_cost(*this);
  if (!from_products) return (permutations + 1ull) * pass;
  // One pass per entry's share of the slices, then O(units) per draw.
  const std::uint64_t units = std::max<std::uint64_t>(1, tested_units());
  return product_entries(*this) * (pass / units) + (permutations + 1ull) * units;
}

namespace {

// What every path shares: the tested units, both sides' rows, the fold, and the results.
struct null_pass {
  const null_request& request;
  std::vector<std::uint32_t> units;  // tested unit → unit index on the axis
  null_rows& a;
  null_rows& b;
  std::span<const float> norm_a, norm_b;
  std::vector<float> both_norms;  // g_A ∘ g_B: ⟨a ∘ g_A ∘ g_B, b⟩ = ⟨a ∘ g_A, b ∘ g_B⟩
  null_samples& out;
};

// Axis 0, every draw a pass: rows of A read once per batch of draws, B's rows in the drawn order.
void rows_direct(null_pass& pass) {
  const std::size_t n = pass.units.size(), length = pass.a.length();
  const row_dot_function row_dot = best_kernel().row_dot;
  auto& out = pass.out;
  std::vector<double> norm_a(n), norm_b(n);
  std::vector<float> folded(out.folded ? length : 0);
  const std::span<const float> none;
  if (out.directions) {
    norm_a = pass.a.norms(pass.units, out.folded ? pass.norm_a : none);
    norm_b = pass.b.norms(pass.units, out.folded ? pass.norm_b : none);
  }
  const auto statistics = [&](const std::vector<const std::uint32_t*>& batch, double* totals, double* directions) {
    std::fill(totals, totals + batch.size(), 0.0);
    std::fill(directions, directions + batch.size(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const float* x = pass.a.row(pass.units[i]);
      if (out.folded)
        for (std::size_t j = 0; j < length; ++j) folded[j] = x[j] * pass.both_norms[j];
      for (std::size_t k = 0; k < batch.size(); ++k) {
        if (batch[k] && k + 1 < batch.size() && batch[k + 1]) pass.b.prefetch(pass.units[batch[k + 1][i]]);
        const std::size_t j = batch[k] ? batch[k][i] : i;
        const float* y = pass.b.row(pass.units[j]);
        const double dot = row_dot(x, y, length);
        totals[k] += dot;
        const double scale = norm_a[i] * norm_b[j];
        if (out.directions && scale > 0) directions[k] += (out.folded ? row_dot(folded.data(), y, length) : dot) / scale;
      }
    }
  };
  statistics({nullptr}, &out.observed, &out.direction_observed);
  constexpr std::uint32_t batch_size = 8;
  symmetry_draws draws(pass.request.group, pass.request.seed);
  std::vector<std::vector<std::uint32_t>> perms(batch_size, std::vector<std::uint32_t>(n));
  std::vector<double> direction_batch(batch_size);
  for (std::uint32_t first = 0; first < pass.request.permutations; first += batch_size) {
    const std::uint32_t count = std::min(batch_size, pass.request.permutations - first);
    std::vector<const std::uint32_t*> batch;
    for (std::uint32_t k = 0; k < count; ++k) {
      draws.next(pass.request.layout, perms[k]);
      batch.push_back(perms[k].data());
    }
    statistics(batch, out.t.data() + first, direction_batch.data());
    if (out.directions) std::copy_n(direction_batch.begin(), count, out.direction_t.begin() + first);
  }
}

// Rows of `side` listed by `members` (tested-unit indices) into one row-major matrix, each row
// multiplied by `fold` when it is not empty.
std::vector<float> gather_rows(null_pass& pass, bool side_b, const std::vector<std::uint32_t>& members,
                               std::span<const float> fold) {
  const std::size_t length = pass.a.length();
  std::vector<float> matrix(members.size() * length);
  for (std::size_t k = 0; k < members.size(); ++k) {
    const float* row = (side_b ? pass.b : pass.a).row(pass.units[members[k]]);
    float* to = matrix.data() + k * length;
    for (std::size_t j = 0; j < length; ++j) to[j] = fold.empty() ? row[j] : row[j] * fold[j];
  }
  return matrix;
}

// Axis 0 from products: each cell's rows against each other, once.
void rows_products(null_pass& pass, product_table& table) {
  const std::size_t length = pass.a.length();
  const auto& kernel = best_kernel();
  auto& out = pass.out;
  const std::span<const float> none;
  for (auto& cell : table.cells()) {
    const auto rows_a = gather_rows(pass, false, cell.units_a, none);
    const auto rows_b = gather_rows(pass, true, cell.units_b, none);
    const std::size_t na = cell.units_a.size(), nb = cell.units_b.size();
    kernel.dot_matrix(rows_a.data(), na, rows_b.data(), nb, length, cell.products.data());
    if (!out.directions) continue;
    std::vector<double> norms_a(na), norms_b(nb);
    std::vector<const float*> starts(std::max(na, nb));
    for (std::size_t i = 0; i < na; ++i) starts[i] = rows_a.data() + i * length;
    folded_norms(starts.data(), na, out.folded ? pass.norm_a : none, length, norms_a.data());
    for (std::size_t j = 0; j < nb; ++j) starts[j] = rows_b.data() + j * length;
    folded_norms(starts.data(), nb, out.folded ? pass.norm_b : none, length, norms_b.data());
    if (out.folded) {
      const auto folded = gather_rows(pass, false, cell.units_a, pass.both_norms);
      kernel.dot_matrix(folded.data(), na, rows_b.data(), nb, length, cell.directions.data());
    } else {
      cell.directions = cell.products;
    }
    for (std::size_t i = 0; i < na; ++i)
      for (std::size_t j = 0; j < nb; ++j) {
        const double scale = norms_a[i] * norms_b[j];
        double& value = cell.directions[i * nb + j];
        value = scale > 0 ? value / scale : 0.0;
      }
  }
}

}  // namespace

std::vector<std::vector<std::uint32_t>> unit_draws(const null_request& request, std::size_t n) {
  symmetry_draws draws(request.group, request.seed);
  std::vector<std::vector<std::uint32_t>> perms(request.permutations, std::vector<std::uint32_t>(n));
  for (auto& perm : perms) draws.next(request.layout, perm);
  return perms;
}

namespace {

// One draw at a time: K can be large here, and the draws are not needed again.
void sample_products(const null_request& request, const product_table& table, null_samples& out) {
  table.sample(nullptr, out.observed, out.direction_observed);
  symmetry_draws draws(request.group, request.seed);
  std::vector<std::uint32_t> perm(out.tested_units);
  for (std::uint32_t k = 0; k < request.permutations; ++k) {
    draws.next(request.layout, perm);
    double d = 0;
    table.sample(perm.data(), out.t[k], d);
    if (out.directions) out.direction_t[k] = d;
  }
}

// The moments of the tested rows, in the block kernel's own arithmetic, row by row in order.
pair_moments rows_tested_moments(const std::vector<std::uint32_t>& units, null_rows& side_a, null_rows& side_b) {
  pair_moments tested;
  const std::size_t length = side_a.length();
  for (std::size_t k = 0; k < units.size(); ++k) {
    const element_run run_a{side_a.raw_rows(units[k], 1), side_a.type()};
    const element_run run_b{side_b.raw_rows(units[k], 1), side_b.type()};
    const pair_moments unit = pair_moments::from_block(compute_block_sums(run_a, run_b, length));
    if (k == 0)
      tested = unit;
    else
      tested.merge(unit);
  }
  return tested;
}

void check_request(const null_request& request, const byte_source& a, const byte_source& b) {
  if (request.axis > 1 || request.inner == 0 || (request.axis == 1 && request.row_length % request.inner != 0))
    throw internal_error("permutation null: the permuted axis does not fit the tensor");
  if (request.explicit_pairs() && (request.axis != 1 || request.rows_a.size() != request.rows_b.size()))
    throw internal_error("permutation null: row pairs need axis 1 and equal lengths");
  for (std::size_t k = 0; k < request.rows_a.size(); ++k)
    if (request.rows_a[k] >= request.tensor_rows_a || request.rows_b[k] >= request.tensor_rows_b)
      throw internal_error("permutation null: a row pair lies outside its tensor");
  if (request.exclude_end > request.units() || request.exclude_begin > request.exclude_end)
    throw internal_error("permutation null: excluded units outside the axis");
  if (a.size() != request.elements_a() * dtype_size(request.a.type) ||
      b.size() != request.elements_b() * dtype_size(request.b.type))
    throw internal_error("permutation null: byte ranges of the wrong size");
}

}  // namespace

null_samples compute_permutation_null(const null_request& request, std::span<const std::byte> a,
                                      std::span<const std::byte> b, std::span<const float> norm_a,
                                      std::span<const float> norm_b) {
  byte_source source_a(a), source_b(b);
  return compute_permutation_null(request, source_a, source_b, {.norm_a = norm_a, .norm_b = norm_b});
}

// B's tensor turned into A's frame as F32 bytes (permutation_null.hpp, null_request::rotate): B·M
// when its columns are the residual (rows first folded with B's norm), Mᵀ·B when its rows are.
std::vector<std::byte> rotated_b(const null_request& request, byte_source& b, const null_reading& reading) {
  const std::uint64_t rows_b = request.rotated_rows_b, length_b = request.rotated_row_length_b;
  const std::uint64_t rows = request.rows, length = request.row_length;
  const bool columns = request.rotate == 1;
  const std::uint64_t width_b = columns ? length_b : rows_b, width_a = columns ? length : rows;
  if (width_b * width_a != reading.rotation.size() || (columns ? rows_b != rows : length_b != length))
    throw internal_error("permutation null: the hidden map does not fit the tensor");
  std::vector<float> source(rows_b * length_b), turned(rows * length, 0.0f);
  if (!decode_to_float(b.piece(0, source.size() * dtype_size(request.b.type)).data(), request.b.type, source.size(),
                       source.data()))
    source.assign(source.size(), NAN);  // kept non-finite: the null reports it
  const auto& map = reading.rotation;
  if (columns) {
    const bool fold = reading.norm_b_own.size() == width_b;
    std::vector<double> row(width_a);
    for (std::uint64_t r = 0; r < rows; ++r) {
      std::fill(row.begin(), row.end(), 0.0);
      for (std::uint64_t j = 0; j < width_b; ++j) {
        const double v = static_cast<double>(source[r * length_b + j]) * (fold ? reading.norm_b_own[j] : 1.0f);
        if (v == 0) continue;
        for (std::uint64_t k = 0; k < width_a; ++k) row[k] += v * map[j * width_a + k];
      }
      for (std::uint64_t k = 0; k < width_a; ++k) turned[r * length + k] = static_cast<float>(row[k]);
    }
  } else {
    std::vector<double> sum(length);
    for (std::uint64_t r = 0; r < rows; ++r) {
      std::fill(sum.begin(), sum.end(), 0.0);
      for (std::uint64_t j = 0; j < width_b; ++j) {
        const double weight = map[j * width_a + r];
        if (weight == 0) continue;
        for (std::uint64_t c = 0; c < length; ++c) sum[c] += weight * source[j * length_b + c];
      }
      for (std::uint64_t c = 0; c < length; ++c) turned[r * length + c] = static_cast<float>(sum[c]);
    }
  }
  std::vector<std::byte> out(turned.size() * sizeof(float));
  std::memcpy(out.data(), turned.data(), out.size());
  return out;
}

namespace {

// The null of a pair whose B is read in A's frame through the hidden map (null_request::rotate):
// computed on B turned into A's frame, F32, no alignment, its norm already folded in.
null_samples rotated_null(const null_request& request, byte_source& a, byte_source& b, const null_reading& reading) {
  const std::vector<std::byte> turned = rotated_b(request, b, reading);
  null_request in_frame = request;
  in_frame.b.type = dtype::f32;
  in_frame.rotate = 0;
  in_frame.rotated_rows_b = in_frame.rotated_row_length_b = 0;
  byte_source turned_source{std::span<const std::byte>(turned)};
  const std::vector<float> ones(reading.norm_a.empty() ? 0 : reading.norm_a.size(), 1.0f);
  null_reading plain = reading;
  plain.alignment_b = nullptr;
  plain.norm_b = ones;
  plain.rotation = {};
  null_samples out = compute_permutation_null(in_frame, a, turned_source, plain);
  if (out.usable && !out.subset) {
    // No block read this pair: the null's moments over every element are its figures.
    const auto bytes_a = a.piece(0, request.elements_a() * dtype_size(request.a.type));
    out.tested = pair_moments::from_block(compute_block_sums({bytes_a.data(), request.a.type},
                                                             {turned.data(), dtype::f32}, request.elements_a()));
    out.subset = true;
  }
  return out;
}

// The K draws of the statistic (and of the direction statistic), rows or columns: from every cyclic
// shift at once, directly, or through the table of cross products.
void draw_samples(const null_request& request, const std::vector<std::uint32_t>& units, null_rows& side_a,
                  null_rows& side_b, const null_reading& reading, null_samples& out) {
  if (request.group.kind == symmetry_group::form::cyclic && !request.from_products) {
    cyclic_null(request, units, side_a, side_b, reading.norm_a, reading.norm_b, out);
  } else if (request.axis == 0) {
    null_pass pass{request, units, side_a, side_b, reading.norm_a, reading.norm_b, {}, out};
    if (out.folded)
      for (std::size_t j = 0; j < request.row_length; ++j) pass.both_norms.push_back(reading.norm_a[j] * reading.norm_b[j]);
    if (request.from_products) {
      product_table table(request, units.size());
      rows_products(pass, table);
      table.prepare_draws();
      sample_products(request, table, out);
    } else {
      rows_direct(pass);
    }
  } else if (request.from_products) {
    product_table table(request, units.size());
    columns_products(request, units, side_a, side_b, table, out);
    table.prepare_draws();
    sample_products(request, table, out);
  } else {
    columns_direct(request, units, side_a, side_b, out);
  }
}

// The draws, then the moments of the tested subset (the figures the observed statistic is read from).
void draw_null(const null_request& request, const std::vector<std::uint32_t>& units, null_rows& side_a,
               null_rows& side_b, const null_reading& reading, null_samples& out) {
  draw_samples(request, units, side_a, side_b, reading, out);
  if (out.subset)
    out.tested = request.axis == 0 ? rows_tested_moments(units, side_a, side_b)
                                   : columns_tested_moments(request, units, side_a, side_b);
}

}  // namespace

null_samples compute_permutation_null(const null_request& request, byte_source& a, byte_source& b,
                                      const null_reading& reading) {
  if (request.rotate != 0) return rotated_null(request, a, b, reading);
  null_samples out;
  out.pair = request.pair;
  check_request(request, a, b);
  std::vector<std::uint32_t> units;
  for (std::uint64_t u = 0; u < request.units(); ++u)
    if (u < request.exclude_begin || u >= request.exclude_end) units.push_back(static_cast<std::uint32_t>(u));
  out.subset = request.tests_subset();
  out.tested_units = units.size();
  if (request.permutations == 0) {
    out.reason = "no permutations drawn";
    return out;
  }
  if (units.size() < 2 || request.row_length == 0) {
    out.reason = "fewer than two units to permute";
    return out;
  }
  if (!fits(request.group, request.layout, units.size()))
    throw internal_error("permutation null: the axis does not fit its unit's group");
  const std::uint64_t rows_a = request.explicit_pairs() ? request.tensor_rows_a : request.rows;
  const std::uint64_t rows_b = request.explicit_pairs() ? request.tensor_rows_b : request.rows;
  null_rows side_a(a, request.a.type, rows_a, request.row_length, nullptr, false, reading.float_limit);
  null_rows side_b(b, request.b.type, rows_b, request.row_length, reading.alignment_b, !request.explicit_pairs(),
                   reading.float_limit);
  if (!side_a.finite() || !side_b.finite()) {
    out.reason = "non-finite values";
    return out;
  }
  out.directions = request.slice_elements() > 1;
  out.folded = out.directions && request.axis == 0 && reading.norm_a.size() == request.row_length &&
               reading.norm_b.size() == request.row_length;
  out.t.resize(request.permutations);
  if (out.directions) out.direction_t.resize(request.permutations);
  out.randomizer = 1 - random_stream(request.seed, "symmetry null", "randomizer").uniform();
  draw_null(request, units, side_a, side_b, reading, out);
  out.usable = true;
  return out;
}

}  // namespace lineage
