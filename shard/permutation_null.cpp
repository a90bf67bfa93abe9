#include "shard/permutation_null.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/dtype.hpp"
#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "shard/aligned_rows.hpp"
#include "shard/decode.hpp"
#include "shard/kernel.hpp"

namespace lineage {
namespace {

// Rows of one side of a null, decoded to float: all at once when they fit in `float_limit` bytes,
// otherwise one at a time as the permutations visit them. B's rows may come through an alignment
// (rows in A's order unless `reorder_rows` is false, columns in A's order, sign flips); either way
// a row decodes to the same floats.
class row_source {
 public:
  row_source(byte_source& bytes, dtype type, std::uint64_t rows, std::uint64_t length, const b_alignment* alignment,
             bool reorder_rows, std::uint64_t float_limit)
      : bytes_(bytes),
        type_(type),
        size_(dtype_size(type)),
        rows_(rows),
        length_(static_cast<std::size_t>(length)),
        alignment_(alignment),
        reorder_rows_(reorder_rows) {
    if (rows * length * sizeof(float) <= float_limit) {
      whole_.resize(static_cast<std::size_t>(rows * length));
      // In runs of rows of about 4 MiB, so that a pread or a gather serves many rows at once.
      const std::uint64_t run = std::max<std::uint64_t>(1, (std::uint64_t{1} << 22) / std::max<std::size_t>(1, length_ * size_));
      for (std::uint64_t r = 0; r < rows_; r += run) {
        const std::uint64_t count = std::min(run, rows_ - r);
        finite_ = decode_to_float(raw_rows(r, count), type_, static_cast<std::size_t>(count) * length_,
                                  whole_.data() + r * length_) &&
                  finite_;
      }
      bytes_.release();
    } else {
      scratch_.resize(length_);
      for (std::uint64_t r = 0; r < rows_ && finite_; ++r) row(r);  // one pass to check finiteness
    }
  }
  [[nodiscard]] bool finite() const noexcept { return finite_; }
  [[nodiscard]] bool decoded() const noexcept { return !whole_.empty(); }
  void prefetch(std::uint64_t r) const {
    if (whole_.empty()) return;
    const float* start = whole_.data() + r * length_;
    for (std::size_t j = 0; j < length_; j += 16) __builtin_prefetch(start + j);
  }
  // Rows [r, r + count)'s bytes in the tensor's dtype (valid until the next read of this source).
  const std::byte* raw_rows(std::uint64_t r, std::uint64_t count) {
    if (alignment_ == nullptr) return bytes_.piece(r * length_ * size_, count * length_ * size_).data();
    gathered_.resize(static_cast<std::size_t>(count) * length_ * size_);
    gather_aligned(bytes_, *alignment_, r * length_, count * length_, reorder_rows_, gathered_.data());
    return gathered_.data();
  }
  const std::byte* raw_row(std::uint64_t r) { return raw_rows(r, 1); }
  const float* row(std::uint64_t r) {
    if (!whole_.empty()) return whole_.data() + r * length_;
    finite_ = decode_to_float(raw_row(r), type_, length_, scratch_.data()) && finite_;
    return scratch_.data();
  }

 private:
  byte_source& bytes_;
  dtype type_;
  std::size_t size_;
  std::uint64_t rows_;
  std::size_t length_;
  const b_alignment* alignment_;
  bool reorder_rows_;
  std::vector<std::byte> gathered_;
  std::vector<float> whole_, scratch_;
  bool finite_ = true;
};

}  // namespace

namespace {

// ‖row ∘ fold‖ (fold empty: ‖row‖), in double.
double folded_norm(const float* row, std::span<const float> fold, std::size_t length) {
  double squares = 0;
  for (std::size_t j = 0; j < length; ++j) {
    const double v = fold.empty() ? row[j] : static_cast<double>(row[j]) * fold[j];
    squares += v * v;
  }
  return std::sqrt(squares);
}

}  // namespace

null_samples compute_permutation_null(const null_request& request, std::span<const std::byte> a,
                                      std::span<const std::byte> b, std::span<const float> norm_a,
                                      std::span<const float> norm_b) {
  byte_source source_a(a), source_b(b);
  return compute_permutation_null(request, source_a, source_b, {.norm_a = norm_a, .norm_b = norm_b});
}

null_samples compute_permutation_null(const null_request& request, byte_source& a, byte_source& b,
                                      const null_reading& reading) {
  const std::span<const float> norm_a = reading.norm_a, norm_b = reading.norm_b;
  null_samples out;
  out.pair = request.pair;
  const std::size_t length = static_cast<std::size_t>(request.row_length);
  const std::uint64_t rows_a_total = request.elements_a() / std::max<std::uint64_t>(1, request.row_length);
  const std::uint64_t rows_b_total = request.elements_b() / std::max<std::uint64_t>(1, request.row_length);

  // The tested units: unit index_a[k] of A meets unit index_b[k] of B.
  std::vector<std::uint32_t> index_a, index_b;
  if (request.explicit_pairs()) {
    if (request.rows_b.size() != request.rows_a.size())
      throw internal_error("permutation null: row pairs of unequal length");
    for (std::size_t k = 0; k < request.rows_a.size(); ++k)
      if (request.rows_a[k] >= rows_a_total || request.rows_b[k] >= rows_b_total)
        throw internal_error("permutation null: a row pair lies outside its tensor");
    index_a = request.rows_a;
    index_b = request.rows_b;
  } else {
    for (std::uint64_t i = 0; i < request.rows; ++i)
      if (i < request.exclude_begin || i >= request.exclude_end) index_a.push_back(static_cast<std::uint32_t>(i));
    index_b = index_a;
  }
  out.subset = request.tests_subset();
  out.tested_units = index_a.size();
  if (index_a.size() < 2 || length == 0) {
    out.reason = "fewer than two units to permute";
    return out;
  }
  if (a.size() != request.elements_a() * dtype_size(request.a.type) ||
      b.size() != request.elements_b() * dtype_size(request.b.type))
    throw internal_error("permutation null: byte ranges of the wrong size");
  const std::uint64_t limit = reading.float_limit;
  row_source rows_a(a, request.a.type, rows_a_total, request.row_length, nullptr, false, limit);
  row_source rows_b(b, request.b.type, rows_b_total, request.row_length, reading.alignment_b,
                    !request.explicit_pairs(), limit);
  if (!rows_a.finite() || !rows_b.finite()) {
    out.reason = "non-finite values";
    return out;
  }
  const std::size_t n = index_a.size();
  const row_dot_function row_dot = best_kernel().row_dot;

  // Row directions: norms of the (folded) rows, and A's rows folded with g_A ∘ g_B, so that
  // ⟨a ∘ g_A ∘ g_B, b⟩ = ⟨a ∘ g_A, b ∘ g_B⟩. Without a fold the dot of T serves D too.
  out.directions = request.directions && length > 1;
  out.folded = out.directions && norm_a.size() == length && norm_b.size() == length;
  if (out.directions && (!norm_a.empty() || !norm_b.empty()) && !out.folded)
    throw internal_error("permutation null: norm weights of the wrong length");
  std::vector<double> direction_norm_a, direction_norm_b;
  std::vector<float> both_norms;
  if (out.directions) {
    const std::span<const float> no_fold;
    for (std::size_t i = 0; i < n; ++i)
      direction_norm_a.push_back(folded_norm(rows_a.row(index_a[i]), out.folded ? norm_a : no_fold, length));
    direction_norm_b.assign(static_cast<std::size_t>(rows_b_total), 0.0);
    for (std::size_t i = 0; i < n; ++i)
      direction_norm_b[index_b[i]] = folded_norm(rows_b.row(index_b[i]), out.folded ? norm_b : no_fold, length);
    if (out.folded)
      for (std::size_t j = 0; j < length; ++j) both_norms.push_back(norm_a[j] * norm_b[j]);
  }
  std::vector<float> folded_row(out.folded ? length : 0);

  if (out.subset) {
    // The moments of the tested pairs, in the block kernel's own arithmetic, unit by unit in order.
    for (std::size_t k = 0; k < n; ++k) {
      const element_run run_a{rows_a.raw_row(index_a[k]), request.a.type};
      const element_run run_b{rows_b.raw_row(index_b[k]), request.b.type};
      const pair_moments unit = pair_moments::from_block(compute_block_sums(run_a, run_b, length));
      if (k == 0)
        out.tested = unit;
      else
        out.tested.merge(unit);
    }
  }

  // T for a batch of permutations at once, so that each row of A is read once per batch (B's rows
  // come in random order either way). Every T still sums its rows in order 0..n−1: batching does
  // not change a bit. A null pointer stands for the identity.
  const auto statistics = [&](const std::vector<const std::uint32_t*>& batch, double* totals, double* directions) {
    std::fill(totals, totals + batch.size(), 0.0);
    if (out.directions) std::fill(directions, directions + batch.size(), 0.0);
    if (length == 1) {
      // Vectors: one product per element, in double (exact for float inputs), decoded or not.
      for (std::size_t k = 0; k < batch.size(); ++k)
        for (std::size_t i = 0; i < n; ++i) {
          const double x = *rows_a.row(index_a[i]);
          totals[k] += x * static_cast<double>(*rows_b.row(index_b[batch[k] ? batch[k][i] : i]));
        }
      return;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const float* x = rows_a.row(index_a[i]);
      if (out.folded)
        for (std::size_t j = 0; j < length; ++j) folded_row[j] = x[j] * both_norms[j];
      for (std::size_t k = 0; k < batch.size(); ++k) {
        const std::uint32_t* permutation = batch[k];
        // B's rows come in random order: fetch the next one while this one is summed.
        if (permutation && k + 1 < batch.size() && batch[k + 1]) rows_b.prefetch(index_b[batch[k + 1][i]]);
        const std::uint32_t row_b = index_b[permutation ? permutation[i] : i];
        const float* y = rows_b.row(row_b);
        const double dot = row_dot(x, y, length);
        totals[k] += dot;
        if (!out.directions) continue;
        const double scale = direction_norm_a[i] * direction_norm_b[row_b];
        if (scale > 0) directions[k] += (out.folded ? row_dot(folded_row.data(), y, length) : dot) / scale;
      }
    }
  };

  double observed = 0, direction_observed = 0;
  statistics({nullptr}, &observed, &direction_observed);
  out.observed = observed;
  out.direction_observed = direction_observed;
  constexpr std::uint32_t batch_size = 8;
  random_stream stream(request.seed, "permutation null", "rows");
  std::vector<std::vector<std::uint32_t>> permutations(batch_size, std::vector<std::uint32_t>(n));
  out.t.resize(request.permutations);
  if (out.directions) out.direction_t.resize(request.permutations);
  std::vector<double> direction_batch(batch_size);
  for (std::uint32_t first = 0; first < request.permutations; first += batch_size) {
    const std::uint32_t count = std::min(batch_size, request.permutations - first);
    std::vector<const std::uint32_t*> batch;
    for (std::uint32_t k = 0; k < count; ++k) {
      random_permutation(stream, permutations[k]);
      batch.push_back(permutations[k].data());
    }
    statistics(batch, out.t.data() + first, direction_batch.data());
    if (out.directions) std::copy_n(direction_batch.begin(), count, out.direction_t.begin() + first);
  }
  out.randomizer = 1 - stream.uniform();
  out.usable = true;
  return out;
}

}  // namespace lineage
