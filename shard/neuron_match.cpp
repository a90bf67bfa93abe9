#include "shard/neuron_match.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/assignment.hpp"
#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "shard/block_compute.hpp"
#include "shard/decode.hpp"
#include "shard/kernel.hpp"

namespace lineage {
namespace {

// One role's neuron vectors on the compared hidden dimensions, each centred and scaled to norm 1
// (so a dot product is a Pearson correlation): neurons × columns, row-major.
struct neuron_vectors {
  std::vector<float> values;
  std::size_t length = 0;
  bool finite = true;
};

void standardise(neuron_vectors& v, std::size_t neurons) {
  for (std::size_t i = 0; i < neurons; ++i) {
    float* row = v.values.data() + i * v.length;
    double mean = 0;
    for (std::size_t k = 0; k < v.length; ++k) mean += row[k];
    mean /= static_cast<double>(v.length);
    double squares = 0;
    for (std::size_t k = 0; k < v.length; ++k) squares += (row[k] - mean) * (row[k] - mean);
    const double scale = squares > 0 ? 1.0 / std::sqrt(squares) : 0.0;
    for (std::size_t k = 0; k < v.length; ++k) row[k] = static_cast<float>((row[k] - mean) * scale);
  }
}

// Rows of gate_proj or up_proj [neurons, hidden]: columns [begin, begin + count) of each.
neuron_vectors read_rows(block_reader& reader, int side, const element_location& first, std::uint64_t neurons,
                         const neuron_match_request& request) {
  neuron_vectors v;
  v.length = static_cast<std::size_t>(request.column_count);
  v.values.resize(static_cast<std::size_t>(neurons) * v.length);
  const mapped_range bytes = reader.map(side, first, neurons * request.hidden);
  const std::size_t size = dtype_size(first.type);
  for (std::uint64_t i = 0; i < neurons; ++i)
    v.finite = decode_to_float(bytes.bytes().data() + (i * request.hidden + request.column_begin) * size, first.type,
                               v.length, v.values.data() + i * v.length) &&
               v.finite;
  standardise(v, static_cast<std::size_t>(neurons));
  return v;
}

// Columns of down_proj [hidden, neurons]: rows [begin, begin + count), transposed to one vector
// per neuron.
neuron_vectors read_columns(block_reader& reader, int side, const element_location& first, std::uint64_t neurons,
                            const neuron_match_request& request) {
  neuron_vectors v;
  v.length = static_cast<std::size_t>(request.column_count);
  v.values.resize(static_cast<std::size_t>(neurons) * v.length);
  element_location start = first;
  start.byte_offset += request.column_begin * neurons * dtype_size(first.type);
  const mapped_range bytes = reader.map(side, start, request.column_count * neurons);
  std::vector<float> row(static_cast<std::size_t>(neurons));
  for (std::uint64_t r = 0; r < request.column_count; ++r) {
    v.finite = decode_to_float(bytes.bytes().data() + r * neurons * dtype_size(first.type), first.type, row.size(),
                               row.data()) &&
               v.finite;
    for (std::size_t i = 0; i < row.size(); ++i) v.values[i * v.length + r] = row[i];
  }
  standardise(v, static_cast<std::size_t>(neurons));
  return v;
}

// neurons_a × neurons_b Pearson correlations, with the deterministic row kernel.
std::vector<double> similarity(const neuron_vectors& a, std::size_t neurons_a, const neuron_vectors& b,
                               std::size_t neurons_b) {
  std::vector<double> s(neurons_a * neurons_b);
  dot_product_matrix(a.values.data(), neurons_a, b.values.data(), neurons_b, a.length, s.data());
  return s;
}

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

neuron_match_result compute_neuron_match(std::uint32_t index, const neuron_match_request& request,
                                         block_reader& reader) {
  neuron_match_result result;
  result.request = index;
  const std::size_t na = static_cast<std::size_t>(request.neurons_a), nb = static_cast<std::size_t>(request.neurons_b);
  if (na < 2 || nb < 2 || request.column_count == 0 || request.column_begin + request.column_count > request.hidden)
    throw internal_error(fmt::format("neuron match of layer {} {}: malformed request", request.layer, request.group));
  const neuron_vectors gate_a = read_rows(reader, 0, request.gate_a, na, request);
  const neuron_vectors gate_b = read_rows(reader, 1, request.gate_b, nb, request);
  const neuron_vectors up_a = read_rows(reader, 0, request.up_a, na, request);
  const neuron_vectors up_b = read_rows(reader, 1, request.up_b, nb, request);
  const neuron_vectors down_a = read_columns(reader, 0, request.down_a, na, request);
  const neuron_vectors down_b = read_columns(reader, 1, request.down_b, nb, request);
  for (const auto* v : {&gate_a, &gate_b, &up_a, &up_b, &down_a, &down_b})
    if (!v->finite) {
      result.reason = "non-finite values in the compared columns";
      return result;
    }
  std::vector<double> gate = similarity(gate_a, na, gate_b, nb);
  result.by_gate = maximum_assignment(gate, na, nb);
  std::vector<double> combined = std::move(gate);
  {
    const std::vector<double> up = similarity(up_a, na, up_b, nb);
    result.by_up = maximum_assignment(up, na, nb);
    for (std::size_t k = 0; k < combined.size(); ++k) combined[k] += up[k];
  }
  {
    const std::vector<double> down = similarity(down_a, na, down_b, nb);
    for (std::size_t k = 0; k < combined.size(); ++k) combined[k] = (combined[k] + down[k]) / 3;
  }
  result.combined = maximum_assignment(combined, na, nb);
  result.combined_similarity = assignment_score(combined, nb, result.combined) / static_cast<double>(std::min(na, nb));

  // The Spearman sample: A neurons matched in both.
  std::vector<std::int32_t> x, y;
  for (std::size_t i = 0; i < na; ++i)
    if (result.by_gate[i] >= 0 && result.by_up[i] >= 0) {
      x.push_back(result.by_gate[i]);
      y.push_back(result.by_up[i]);
    }
  result.ranked = x.size();
  result.spearman = rank_correlation(x, y);
  if (!std::isfinite(result.spearman)) {
    result.reason = "fewer than two neurons matched in both";
    return result;
  }
  random_stream stream(request.seed, "neuron matching null", fmt::format("layer {} {}", request.layer, request.group));
  std::vector<std::uint32_t> order(y.size());
  std::vector<std::int32_t> shuffled(y.size());
  for (std::uint32_t k = 0; k < request.permutations; ++k) {
    random_permutation(stream, order);
    for (std::size_t i = 0; i < order.size(); ++i) shuffled[i] = y[order[i]];
    result.null.push_back(rank_correlation(x, shuffled));
  }
  result.randomizer = 1 - stream.uniform();
  result.usable = true;
  return result;
}

}  // namespace lineage
