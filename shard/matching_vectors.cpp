#include "shard/matching_vectors.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "shard/block_compute.hpp"
#include "shard/kernel.hpp"

namespace lineage {

namespace {

// Σ (row[k] − shift)^power over k (power 1 or 2) in double: four running sums, k into sum k mod 4,
// added in a fixed order (one running sum would wait on its own adds).
template <int power>
double row_sum(const float* row, std::size_t length, double shift) {
  const auto term = [row, shift](std::size_t k) {
    const double d = row[k] - shift;
    return power == 1 ? d : d * d;
  };
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;  // named: an indexed array would stay in memory
  std::size_t k = 0;
  for (; k + 4 <= length; k += 4) s0 += term(k), s1 += term(k + 1), s2 += term(k + 2), s3 += term(k + 3);
  if (k < length) s0 += term(k);
  if (k + 1 < length) s1 += term(k + 1);
  if (k + 2 < length) s2 += term(k + 2);
  return (s0 + s1) + (s2 + s3);
}

}  // namespace

void standardise(object_vectors& v, std::size_t objects) {
  for (std::size_t i = 0; i < objects; ++i) {
    float* row = v.values.data() + i * v.length;
    const double mean = row_sum<1>(row, v.length, 0.0) / static_cast<double>(v.length);
    const double squares = row_sum<2>(row, v.length, mean);
    const double scale = squares > 0 ? 1.0 / std::sqrt(squares) : 0.0;
    for (std::size_t k = 0; k < v.length; ++k) row[k] = static_cast<float>((row[k] - mean) * scale);
  }
}

object_vectors read_row_objects(block_reader& reader, int side, const element_location& first, std::uint64_t rows,
                                std::uint64_t row_length, std::span<const std::uint32_t> columns) {
  return read_row_objects(reader, side, first, index_range(0, rows), row_length, columns);
}

object_vectors read_row_objects(block_reader& reader, int side, const element_location& first,
                                std::span<const std::uint32_t> rows, std::uint64_t row_length,
                                std::span<const std::uint32_t> columns) {
  object_vectors v;
  v.length = columns.size();
  v.values.resize(rows.size() * v.length);
  v.finite = reader.read_rows(side, first, row_length, rows, columns, v.values.data());
  standardise(v, rows.size());
  return v;
}

object_vectors select_objects(const object_vectors& v, std::span<const std::uint32_t> objects) {
  object_vectors out;
  out.length = v.length;
  out.finite = v.finite;
  out.values.resize(objects.size() * v.length);
  for (std::size_t k = 0; k < objects.size(); ++k)
    std::copy_n(v.values.begin() + static_cast<std::ptrdiff_t>(objects[k] * v.length), v.length,
                out.values.begin() + static_cast<std::ptrdiff_t>(k * v.length));
  return out;
}

object_vectors read_column_objects(block_reader& reader, int side, const element_location& first,
                                   std::uint64_t objects, std::span<const std::uint32_t> rows) {
  object_vectors v;
  v.length = rows.size();
  v.values.resize(static_cast<std::size_t>(objects) * v.length);
  std::vector<float> block(rows.size() * static_cast<std::size_t>(objects));
  v.finite = reader.read_rows(side, first, objects, rows, {}, block.data());
  // Transposed in tiles of 16 × 16, so that both the reads and the writes stay in cache lines
  // already fetched (column by column, each write landed a row's length away).
  constexpr std::size_t tile = 16;
  const auto count = static_cast<std::size_t>(objects);
  for (std::size_t r0 = 0; r0 < rows.size(); r0 += tile)
    for (std::size_t i0 = 0; i0 < count; i0 += tile)
      for (std::size_t r = r0; r < std::min(rows.size(), r0 + tile); ++r)
        for (std::size_t i = i0; i < std::min(count, i0 + tile); ++i) v.values[i * v.length + r] = block[r * count + i];
  standardise(v, count);
  return v;
}

std::vector<std::uint32_t> index_range(std::uint64_t begin, std::uint64_t count) {
  std::vector<std::uint32_t> indices(static_cast<std::size_t>(count));
  std::iota(indices.begin(), indices.end(), static_cast<std::uint32_t>(begin));
  return indices;
}

std::vector<double> pearson_matrix(const object_vectors& a, std::size_t objects_a, const object_vectors& b,
                               std::size_t objects_b) {
  std::vector<double> s(objects_a * objects_b);
  dot_product_matrix(a.values.data(), objects_a, b.values.data(), objects_b, a.length, s.data());
  return s;
}

namespace {

std::vector<double> ranks_of(const std::vector<std::int32_t>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return values[x] < values[y]; });
  std::vector<double> ranks(values.size());
  for (std::size_t r = 0; r < order.size(); ++r) ranks[order[r]] = static_cast<double>(r);
  return ranks;
}

}  // namespace

double rank_correlation(const std::vector<std::int32_t>& x, const std::vector<std::int32_t>& y) {
  if (x.size() != y.size() || x.size() < 2) return NAN;
  const auto rx = ranks_of(x), ry = ranks_of(y);
  // Distinct values: ranks are a permutation of 0..n−1 on both sides.
  const double n = static_cast<double>(x.size());
  const double mean = (n - 1) / 2;
  double cross = 0, squares = 0;
  for (std::size_t i = 0; i < rx.size(); ++i) {
    cross += (rx[i] - mean) * (ry[i] - mean);
    squares += (rx[i] - mean) * (rx[i] - mean);
  }
  return cross / squares;
}

matching_agreement agreement_of(const std::vector<std::int32_t>& first, const std::vector<std::int32_t>& second,
                                std::uint32_t permutations, random_stream& stream) {
  matching_agreement out;
  std::vector<std::int32_t> x, y;
  for (std::size_t i = 0; i < first.size() && i < second.size(); ++i)
    if (first[i] >= 0 && second[i] >= 0) {
      x.push_back(first[i]);
      y.push_back(second[i]);
    }
  out.ranked = x.size();
  out.spearman = rank_correlation(x, y);
  if (!std::isfinite(out.spearman)) return out;
  std::vector<std::uint32_t> order(y.size());
  std::vector<std::int32_t> shuffled(y.size());
  for (std::uint32_t k = 0; k < permutations; ++k) {
    random_permutation(stream, order);
    for (std::size_t i = 0; i < order.size(); ++i) shuffled[i] = y[order[i]];
    out.null.push_back(rank_correlation(x, shuffled));
  }
  out.randomizer = 1 - stream.uniform();
  return out;
}

}  // namespace lineage
