#include "shard/neuron_match.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/assignment.hpp"
#include "core/error.hpp"
#include "core/sparse_assignment.hpp"
#include "shard/candidate_similarity.hpp"

namespace lineage {
namespace {

// The hidden dimensions side `side` compares.
std::vector<std::uint32_t> compared_dimensions(int side, const neuron_match_request& request) {
  if (side == 1 && !request.columns_b.empty()) return request.columns_b;
  return index_range(request.column_begin, request.column_count);
}

// A's neurons that are matched: all, or a seeded sample in ascending order.
std::vector<std::uint32_t> matched_neurons(const neuron_match_request& request) {
  const std::uint64_t n = request.neurons_a, m = request.matched();
  std::vector<std::uint32_t> all = index_range(0, n);
  if (m == n) return all;
  random_stream stream(request.seed, "neuron sample", fmt::format("layer {} {}", request.layer, request.group));
  for (std::uint64_t k = 0; k < m; ++k) std::swap(all[k], all[k + stream.below(n - k)]);  // partial Fisher–Yates
  all.resize(m);
  std::sort(all.begin(), all.end());
  return all;
}

// The three roles' neuron vectors on one side: gate_proj and up_proj [neurons, hidden] rows, and
// down_proj [hidden, neurons] columns, on the compared hidden dimensions; only `neurons` of them.
struct mlp_objects {
  object_vectors gate, up, down;
};

mlp_objects read_mlp(block_reader& reader, int side, const neuron_match_request& request,
                     const std::vector<std::uint32_t>& neurons) {
  const bool a = side == 0;
  const std::uint64_t count = a ? request.neurons_a : request.neurons_b;
  const auto columns = compared_dimensions(side, request);
  mlp_objects m;
  m.gate = read_row_objects(reader, side, a ? request.gate_a : request.gate_b, neurons, request.hidden, columns);
  m.up = read_row_objects(reader, side, a ? request.up_a : request.up_b, neurons, request.hidden, columns);
  m.down = select_objects(read_column_objects(reader, side, a ? request.down_a : request.down_b, count, columns),
                          neurons);
  return m;
}

// Per A neuron (all of them), the matched B neuron of each sampled row's assignment.
std::vector<std::int32_t> spread(const std::vector<std::int32_t>& assigned, const std::vector<std::uint32_t>& rows,
                                 std::uint64_t neurons_a) {
  std::vector<std::int32_t> out(neurons_a, -1);
  for (std::size_t r = 0; r < rows.size(); ++r) out[rows[r]] = assigned[r];
  return out;
}

// The dense path: every sampled neuron against every B neuron, each matching an optimal assignment.
void match_dense(const mlp_objects& a, const mlp_objects& b, std::size_t rows, std::size_t nb,
                 neuron_match_result& result) {
  std::vector<double> gate = pearson_matrix(a.gate, rows, b.gate, nb);
  result.by_gate = maximum_assignment(gate, rows, nb);
  std::vector<double> combined = std::move(gate);
  {
    const std::vector<double> up = pearson_matrix(a.up, rows, b.up, nb);
    result.by_up = maximum_assignment(up, rows, nb);
    for (std::size_t k = 0; k < combined.size(); ++k) combined[k] += up[k];
  }
  {
    const std::vector<double> down = pearson_matrix(a.down, rows, b.down, nb);
    for (std::size_t k = 0; k < combined.size(); ++k) combined[k] = (combined[k] + down[k]) / 3;
  }
  result.combined = maximum_assignment(combined, rows, nb);
  result.combined_similarity = assignment_score(combined, nb, result.combined);
}

// The sparse path: candidates from a coarse pass, exact similarities and assignments on them.
void match_sparse(const mlp_objects& a, const mlp_objects& b, std::size_t rows, std::size_t nb,
                  const neuron_match_request& request, neuron_match_result& result) {
  const role_objects roles[] = {{&a.gate, &b.gate}, {&a.up, &b.up}, {&a.down, &b.down}};
  const std::size_t coarse = std::min<std::size_t>(request.coarse_columns, a.gate.length);
  const candidate_similarities found = find_candidates(roles, rows, nb, coarse, request.candidates);
  result.by_gate = sparse_maximum_assignment(found.graph(0));
  result.by_up = sparse_maximum_assignment(found.graph(1));
  const candidate_graph combined = found.graph(3);
  result.combined = sparse_maximum_assignment(combined);
  result.combined_similarity = sparse_assignment_score(combined, result.combined);
}

}  // namespace

neuron_match_result compute_neuron_match(std::uint32_t index, const neuron_match_request& request,
                                         block_reader& reader) {
  neuron_match_result result;
  result.request = index;
  const std::size_t na = static_cast<std::size_t>(request.neurons_a), nb = static_cast<std::size_t>(request.neurons_b);
  if (na < 2 || nb < 2 || request.column_count == 0 || request.column_begin + request.column_count > request.hidden ||
      (!request.columns_b.empty() && request.columns_b.size() != request.column_count) ||
      (request.sparse() && request.candidates == 0))
    throw internal_error(fmt::format("neuron match of layer {} {}: malformed request", request.layer, request.group));
  const std::vector<std::uint32_t> rows = matched_neurons(request);
  const mlp_objects a = read_mlp(reader, 0, request, rows);
  const mlp_objects b = read_mlp(reader, 1, request, index_range(0, nb));
  for (const auto* v : {&a.gate, &a.up, &a.down, &b.gate, &b.up, &b.down})
    if (!v->finite) {
      result.reason = "non-finite values in the compared columns";
      return result;
    }
  if (request.sparse())
    match_sparse(a, b, rows.size(), nb, request, result);
  else
    match_dense(a, b, rows.size(), nb, result);
  const std::size_t matched = static_cast<std::size_t>(
      std::count_if(result.combined.begin(), result.combined.end(), [](std::int32_t j) { return j >= 0; }));
  result.combined_similarity = matched == 0 ? 0.0 : result.combined_similarity / static_cast<double>(matched);
  result.by_gate = spread(result.by_gate, rows, na);
  result.by_up = spread(result.by_up, rows, na);
  result.combined = spread(result.combined, rows, na);

  // The Spearman sample: A neurons matched in both.
  random_stream stream(request.seed, "neuron matching null", fmt::format("layer {} {}", request.layer, request.group));
  store_agreement(result, result.by_gate, result.by_up, request.permutations, stream,
                  "fewer than two neurons matched in both");
  return result;
}

}  // namespace lineage
