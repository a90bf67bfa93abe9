#include "shard/null_cyclic.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <optional>

#include "core/error.hpp"
#include "shard/cyclic_correlation.hpp"
#include "shard/null_columns.hpp"
#include "shard/symmetry_draw.hpp"

namespace lineage {
namespace {

std::size_t batch_lines(std::size_t n, std::uint64_t wanted, std::uint64_t bytes) {
  // Both statistics, both sides: n reals and n / 2 + 1 complex values per line.
  const std::uint64_t per_line = 2 * 2 * (2 * static_cast<std::uint64_t>(n) + 2) * sizeof(double);
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(bytes / per_line, 8, std::max<std::uint64_t>(8, wanted)));
}

// T's and D's correlations, and the inverse slice norms that turn T's lines into D's.
struct cyclic_pass {
  const null_request& request;
  std::vector<std::uint32_t> at;  // position j of σ → unit index on the axis
  std::vector<double> weight_a, weight_b;  // by position: 1 / slice norm (0 for a zero slice)
  bool directions;
  cyclic_correlation raw;
  std::optional<cyclic_correlation> scaled;  // D's lines, when the direction statistic is drawn

  cyclic_pass(const null_request& r, const std::vector<std::uint32_t>& units, bool d, std::size_t batch)
      : request(r), directions(d), raw(units.size(), batch) {
    if (directions) scaled.emplace(units.size(), batch);
    const std::vector<std::uint32_t> order = cyclic_order(r.group, r.seed);
    if (order.size() != units.size()) throw internal_error("cyclic null: the order does not fit the tested units");
    for (const std::uint32_t i : order) at.push_back(units[i]);
  }

  void add(std::size_t lines) {
    raw.add_batch(lines);
    if (directions) scaled->add_batch(lines);
  }
};

double inverse(double norm) { return norm > 0 ? 1 / norm : 0.0; }

// A short run of floats (a chunk of a row: often 8 to 32 of them): fixed-size copies the compiler
// inlines, where std::copy_n called memmove once per row and chunk.
void copy_floats(const float* src, std::size_t count, float* dst) {
  std::size_t k = 0;
  for (; k + 8 <= count; k += 8) std::memcpy(dst + k, src + k, 8 * sizeof(float));
  for (; k < count; ++k) dst[k] = src[k];
}

// Axis 0: the lines are the columns, a chunk of them at a time; every row is read once per chunk.
void rows_lines(cyclic_pass& pass, null_rows& a, null_rows& b, std::span<const float> fold_a,
                std::span<const float> fold_b, bool folded) {
  const std::size_t n = pass.at.size(), length = a.length();
  std::vector<float> both(folded ? length : 0);
  for (std::size_t t = 0; t < both.size(); ++t) both[t] = fold_a[t] * fold_b[t];
  const std::span<const float> none;
  if (pass.directions) {
    const std::vector<double> norms_a = a.norms(pass.at, folded ? fold_a : none);
    const std::vector<double> norms_b = b.norms(pass.at, folded ? fold_b : none);
    for (std::size_t j = 0; j < n; ++j) {
      pass.weight_a.push_back(inverse(norms_a[j]));
      pass.weight_b.push_back(inverse(norms_b[j]));
    }
  }
  // Columns [first, first + count) of a tile of rows copied first, then written down the lines:
  // each line's values of the tile are consecutive.
  constexpr std::size_t tile = 16;
  const std::size_t chunk = pass.raw.batch();
  std::vector<float> rows_a(tile * chunk), rows_b(tile * chunk);
  for (std::size_t first = 0; first < length; first += chunk) {
    const std::size_t count = std::min(chunk, length - first);
    for (std::size_t j0 = 0; j0 < n; j0 += tile) {
      const std::size_t height = std::min(tile, n - j0);
      // The rows come in σ's order, a few values from each: no hardware prefetcher foresees them,
      // so the next tile's are asked for while this one is copied (with the large batch: 0.32 →
      // 0.28 s for a 5632 × 2048 BF16 pair; either alone gained nothing).
      for (std::size_t r = j0 + tile; r < std::min(n, j0 + 2 * tile); ++r) {
        a.prefetch(pass.at[r], first, count);
        b.prefetch(pass.at[r], first, count);
      }
      for (std::size_t r = 0; r < height; ++r) {
        copy_floats(a.row(pass.at[j0 + r]) + first, count, rows_a.data() + r * count);
        copy_floats(b.row(pass.at[j0 + r]) + first, count, rows_b.data() + r * count);
      }
      for (std::size_t c = 0; c < count; ++c) {
        const float scale = folded ? both[first + c] : 1.0f;
        for (std::size_t r = 0; r < height; ++r) {
          const float x = rows_a[r * count + c], y = rows_b[r * count + c];
          pass.raw.x(c, j0 + r) = x;
          pass.raw.y(c, j0 + r) = y;
          if (pass.directions) {
            pass.scaled->x(c, j0 + r) = x * scale * pass.weight_a[j0 + r];
            pass.scaled->y(c, j0 + r) = y * pass.weight_b[j0 + r];
          }
        }
      }
    }
    pass.add(count);
  }
}

// Axis 1: the lines are each row's offsets inside the column blocks, a batch of them at a time.
void columns_lines(cyclic_pass& pass, null_rows& a, null_rows& b) {
  const std::size_t n = pass.at.size();
  const std::uint64_t inner = pass.request.inner, rows = pass.request.outer_rows();
  if (pass.directions) {
    // Each slice's squares, summed over the rows in order, by the slice's place in the row (read
    // in order, not in σ's), then looked up by position.
    const std::uint64_t slices = pass.request.units();
    const auto add_squares = [inner, slices](const float* row, std::vector<double>& squares) {
      if (inner == 1) {  // one element per slice: a loop the compiler vectorises (0 + x² is x²)
        for (std::uint64_t u = 0; u < slices; ++u) squares[u] += static_cast<double>(row[u]) * row[u];
        return;
      }
      for (std::uint64_t u = 0; u < slices; ++u) {
        const float* slice = row + u * inner;
        double sum = 0;
        for (std::uint64_t t = 0; t < inner; ++t) sum += static_cast<double>(slice[t]) * slice[t];
        squares[u] += sum;
      }
    };
    std::vector<double> squares_a(slices, 0.0), squares_b(slices, 0.0);
    for (std::uint64_t r = 0; r < rows; ++r) {
      const row_pair at = row_at(pass.request, r);
      add_squares(a.row(at.a), squares_a);
      add_squares(b.row(at.b), squares_b);
    }
    for (std::size_t j = 0; j < n; ++j) {
      pass.weight_a.push_back(inverse(std::sqrt(squares_a.at(pass.at[j]))));
      pass.weight_b.push_back(inverse(std::sqrt(squares_b.at(pass.at[j]))));
    }
  }
  // Each line's values gathered in σ's order first (scalar), then widened and scaled into the
  // lines in order (a loop the compiler vectorises).
  std::vector<float> gathered_x(n), gathered_y(n);
  std::size_t filled = 0;
  for (std::uint64_t r = 0; r < rows; ++r) {
    const row_pair at = row_at(pass.request, r);
    const float* x = a.row(at.a);
    const float* y = b.row(at.b);
    for (std::uint64_t t = 0; t < inner; ++t) {
      for (std::size_t j = 0; j < n; ++j) {
        const std::uint64_t offset = pass.at[j] * inner + t;
        gathered_x[j] = x[offset];
        gathered_y[j] = y[offset];
      }
      double* raw_x = &pass.raw.x(filled, 0);
      double* raw_y = &pass.raw.y(filled, 0);
      for (std::size_t j = 0; j < n; ++j) raw_x[j] = gathered_x[j], raw_y[j] = gathered_y[j];
      if (pass.directions) {
        double* scaled_x = &pass.scaled->x(filled, 0);
        double* scaled_y = &pass.scaled->y(filled, 0);
        const double* weight_a = pass.weight_a.data();
        const double* weight_b = pass.weight_b.data();
        for (std::size_t j = 0; j < n; ++j)
          scaled_x[j] = gathered_x[j] * weight_a[j], scaled_y[j] = gathered_y[j] * weight_b[j];
      }
      if (++filled == pass.raw.batch()) pass.add(filled), filled = 0;
    }
  }
  pass.add(filled);
}

// c[0] is the identity's statistic, c[s] shift s's; draw k takes shifts[k mod (n − 1)] (as
// symmetry_draws gives them). Values within rounding of the observed one are set equal to it, so
// that a statistic the shifts cannot move (a constant tensor) ties exactly, as a direct sum would.
void write_samples(const std::vector<double>& c, const std::vector<std::uint32_t>& shifts, double norm_x,
                   double norm_y, double& observed, std::vector<double>& samples) {
  const double tolerance = 1e-11 * norm_x * norm_y;
  observed = c[0];
  for (std::size_t k = 0; k < samples.size(); ++k) {
    const double value = c.at(shifts[k % shifts.size()]);
    samples[k] = std::abs(value - observed) <= tolerance ? observed : value;
  }
}

}  // namespace

void cyclic_null(const null_request& request, const std::vector<std::uint32_t>& units, null_rows& a,
                 null_rows& b, std::span<const float> fold_a, std::span<const float> fold_b, null_samples& out) {
  if (request.group.kind != symmetry_group::form::cyclic) throw internal_error("cyclic null: not a cyclic group");
  const std::uint64_t lines = request.axis == 0 ? request.row_length : request.outer_rows() * request.inner;
  // Each batch of an axis-0 null reads a few values from every row: the larger batch reads the rows
  // fewer times (whole or decoded one at a time), where the columns' lines are read row by row once.
  cyclic_pass pass(request, units, out.directions,
                   batch_lines(units.size(), lines, request.axis == 0 ? cyclic_batch_bytes_rows : cyclic_batch_bytes));
  if (request.axis == 0)
    rows_lines(pass, a, b, fold_a, fold_b, out.folded);
  else
    columns_lines(pass, a, b);
  const std::vector<std::uint32_t> shifts = cyclic_shifts(request.group, request.seed);
  const auto finish = [&](const cyclic_correlation& sums, double& observed, std::vector<double>& samples) {
    write_samples(sums.sums(), shifts, std::sqrt(sums.squares_x()), std::sqrt(sums.squares_y()), observed, samples);
  };
  finish(pass.raw, out.observed, out.t);
  if (out.directions) finish(*pass.scaled, out.direction_observed, out.direction_t);
}

std::uint64_t cyclic_null_cost(const null_request& request) noexcept {
  const std::uint64_t n = std::max<std::uint64_t>(2, request.tested_units());
  const std::uint64_t lines = request.axis == 0 ? request.row_length : request.outer_rows() * request.inner;
  const std::uint64_t log_n = std::bit_width(n);
  // Per line and statistic: two real transforms of n (≈ 2.5 n log₂ n flops each) and the products;
  // in multiply-add equivalents measured against the direct path (bench_permutation_null,
  // docs/PERFORMANCE.md): rows gathered across the axis-0 rows cost 8/5 of a line read whole.
  const std::uint64_t per_line = n * (log_n + 4) * (request.axis == 0 ? 8 : 5) / 8;
  return lines * per_line * (request.slice_elements() > 1 ? 2 : 1) + request.pass_cost();
}

}  // namespace lineage
