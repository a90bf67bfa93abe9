#include "shard/permutation_null.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/dtype.hpp"
#include "core/random_stream.hpp"
#include "shard/decode.hpp"
#include "shard/kernel.hpp"

namespace lineage {
namespace {

// Tensors up to this many elements per side are decoded once; larger ones row by row.
constexpr std::uint64_t decode_whole_limit = std::uint64_t{1} << 26;

// Rows of one side, decoded once or on demand.
class row_source {
 public:
  row_source(std::span<const std::byte> bytes, dtype type, std::uint64_t rows, std::uint64_t length)
      : bytes_(bytes), type_(type), rows_(rows), length_(static_cast<std::size_t>(length)) {
    if (rows * length <= decode_whole_limit) {
      whole_.resize(static_cast<std::size_t>(rows * length));
      finite_ = decode_to_float(bytes_.data(), type_, whole_.size(), whole_.data());
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
  const float* row(std::uint64_t r) {
    if (!whole_.empty()) return whole_.data() + r * length_;
    finite_ = decode_to_float(bytes_.data() + r * length_ * dtype_size(type_), type_, length_, scratch_.data()) &&
              finite_;
    return scratch_.data();
  }

 private:
  std::span<const std::byte> bytes_;
  dtype type_;
  std::uint64_t rows_;
  std::size_t length_;
  std::vector<float> whole_, scratch_;
  bool finite_ = true;
};

}  // namespace

null_samples compute_permutation_null(const null_request& request, std::span<const std::byte> a,
                                      std::span<const std::byte> b) {
  null_samples out;
  out.pair = request.pair;
  if (request.rows < 2 || request.row_length == 0) {
    out.reason = "fewer than two units to permute";
    return out;
  }
  row_source rows_a(a, request.a.type, request.rows, request.row_length);
  row_source rows_b(b, request.b.type, request.rows, request.row_length);
  if (!rows_a.finite() || !rows_b.finite()) {
    out.reason = "non-finite values";
    return out;
  }
  const std::size_t n = static_cast<std::size_t>(request.rows);
  const std::size_t length = static_cast<std::size_t>(request.row_length);
  const row_dot_function row_dot = best_kernel().row_dot;

  // T for a batch of permutations at once, so that each row of A is read once per batch (B's rows
  // come in random order either way). Every T still sums its rows in order 0..n−1: batching does
  // not change a bit.
  const auto statistics = [&](const std::vector<const std::uint32_t*>& batch, double* totals) {
    std::fill(totals, totals + batch.size(), 0.0);
    if (length == 1 && rows_a.decoded() && rows_b.decoded()) {
      // Vectors: one product per element, in double (exact for float inputs).
      const float* x = rows_a.row(0);
      const float* y = rows_b.row(0);
      for (std::size_t k = 0; k < batch.size(); ++k)
        for (std::size_t i = 0; i < n; ++i)
          totals[k] += static_cast<double>(x[i]) * static_cast<double>(y[batch[k] ? batch[k][i] : i]);
      return;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const float* x = rows_a.row(i);
      for (std::size_t k = 0; k < batch.size(); ++k) {
        const std::uint32_t* permutation = batch[k];
        // B's rows come in random order: fetch the next one while this one is summed.
        if (permutation && k + 1 < batch.size() && batch[k + 1]) rows_b.prefetch(batch[k + 1][i]);
        totals[k] += row_dot(x, rows_b.row(permutation ? permutation[i] : i), length);
      }
    }
  };

  double observed = 0;
  statistics({nullptr}, &observed);
  out.observed = observed;
  constexpr std::uint32_t batch_size = 8;
  random_stream stream(request.seed, "permutation null", "rows");
  std::vector<std::vector<std::uint32_t>> permutations(batch_size, std::vector<std::uint32_t>(n));
  out.t.resize(request.permutations);
  for (std::uint32_t first = 0; first < request.permutations; first += batch_size) {
    const std::uint32_t count = std::min(batch_size, request.permutations - first);
    std::vector<const std::uint32_t*> batch;
    for (std::uint32_t k = 0; k < count; ++k) {
      random_permutation(stream, permutations[k]);
      batch.push_back(permutations[k].data());
    }
    statistics(batch, out.t.data() + first);
  }
  out.randomizer = 1 - stream.uniform();
  out.usable = true;
  return out;
}

}  // namespace lineage
