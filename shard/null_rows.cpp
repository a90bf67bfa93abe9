#include "shard/null_rows.hpp"

#include <algorithm>
#include <cmath>

#include "shard/aligned_rows.hpp"
#include "shard/decode.hpp"

namespace lineage {

double folded_norm(const float* row, std::span<const float> fold, std::size_t length) {
  double squares = 0;
  for (std::size_t j = 0; j < length; ++j) {
    const double v = fold.empty() ? row[j] : static_cast<double>(row[j]) * fold[j];
    squares += v * v;
  }
  return std::sqrt(squares);
}

void folded_norms(const float* const* rows, std::size_t count, std::span<const float> fold, std::size_t length,
                  double* out) {
  std::size_t r = 0;
  for (; r + 4 <= count; r += 4) {
    const float *x0 = rows[r], *x1 = rows[r + 1], *x2 = rows[r + 2], *x3 = rows[r + 3];
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    if (fold.empty()) {
      for (std::size_t j = 0; j < length; ++j) {
        const double v0 = x0[j], v1 = x1[j], v2 = x2[j], v3 = x3[j];
        s0 += v0 * v0, s1 += v1 * v1, s2 += v2 * v2, s3 += v3 * v3;
      }
    } else {
      for (std::size_t j = 0; j < length; ++j) {
        const double g = fold[j];
        const double v0 = x0[j] * g, v1 = x1[j] * g, v2 = x2[j] * g, v3 = x3[j] * g;
        s0 += v0 * v0, s1 += v1 * v1, s2 += v2 * v2, s3 += v3 * v3;
      }
    }
    out[r] = std::sqrt(s0), out[r + 1] = std::sqrt(s1), out[r + 2] = std::sqrt(s2), out[r + 3] = std::sqrt(s3);
  }
  for (; r < count; ++r) out[r] = folded_norm(rows[r], fold, length);
}

null_rows::null_rows(byte_source& bytes, dtype type, std::uint64_t rows, std::uint64_t length,
                     const b_alignment* alignment, bool reorder_rows, std::uint64_t float_limit)
    : bytes_(bytes),
      type_(type),
      size_(dtype_size(type)),
      rows_(rows),
      length_(static_cast<std::size_t>(length)),
      alignment_(alignment),
      reorder_rows_(reorder_rows) {
  if (rows * length * sizeof(float) <= float_limit && rows * length > 0) {
    whole_ = std::make_unique_for_overwrite<float[]>(static_cast<std::size_t>(rows * length));
    // In runs of rows of about 4 MiB, so that a pread or a gather serves many rows at once.
    const std::uint64_t run =
        std::max<std::uint64_t>(1, (std::uint64_t{1} << 22) / std::max<std::size_t>(1, length_ * size_));
    for (std::uint64_t r = 0; r < rows_; r += run) {
      const std::uint64_t count = std::min(run, rows_ - r);
      finite_ = decode_to_float(raw_rows(r, count), type_, static_cast<std::size_t>(count) * length_,
                                whole_.get() + r * length_) &&
                finite_;
    }
    bytes_.release();
  } else {
    scratch_.resize(length_);
    for (std::uint64_t r = 0; r < rows_ && finite_; ++r) row(r);  // one pass to check finiteness
  }
}

void null_rows::prefetch(std::uint64_t r, std::size_t first, std::size_t count) const {
  if (!whole_ || first >= length_) return;
  const float* start = whole_.get() + r * length_ + first;
  const std::size_t end = std::min(count, length_ - first);
  for (std::size_t j = 0; j < end; j += 16) __builtin_prefetch(start + j);
}

const std::byte* null_rows::raw_rows(std::uint64_t r, std::uint64_t count) {
  if (alignment_ == nullptr) return bytes_.piece(r * length_ * size_, count * length_ * size_).data();
  gathered_.resize(static_cast<std::size_t>(count) * length_ * size_);
  gather_aligned(bytes_, *alignment_, r * length_, count * length_, reorder_rows_, gathered_.data());
  return gathered_.data();
}

std::vector<double> null_rows::norms(std::span<const std::uint32_t> which, std::span<const float> fold) {
  std::vector<double> out(which.size());
  if (!whole_) {
    for (std::size_t i = 0; i < which.size(); ++i) out[i] = folded_norm(row(which[i]), fold, length_);
    return out;
  }
  std::vector<const float*> rows(which.size());
  for (std::size_t i = 0; i < which.size(); ++i) rows[i] = row(which[i]);
  folded_norms(rows.data(), rows.size(), fold, length_, out.data());
  return out;
}

const float* null_rows::row(std::uint64_t r) {
  if (whole_) return whole_.get() + r * length_;
  finite_ = decode_to_float(raw_rows(r, 1), type_, length_, scratch_.data()) && finite_;
  return scratch_.data();
}

}  // namespace lineage
