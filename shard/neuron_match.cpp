#include "shard/neuron_match.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/assignment.hpp"
#include "core/error.hpp"

namespace lineage {
namespace {

// The hidden dimensions side `side` compares.
std::vector<std::uint32_t> compared_dimensions(int side, const neuron_match_request& request) {
  if (side == 1 && !request.columns_b.empty()) return request.columns_b;
  return index_range(request.column_begin, request.column_count);
}

// gate_proj and up_proj [neurons, hidden]: each neuron is a row, compared on the hidden dimensions.
object_vectors read_rows(block_reader& reader, int side, const element_location& first, std::uint64_t neurons,
                         const neuron_match_request& request) {
  return read_row_objects(reader, side, first, neurons, request.hidden, compared_dimensions(side, request));
}

// down_proj [hidden, neurons]: each neuron is a column, compared on the hidden dimensions (rows).
object_vectors read_columns(block_reader& reader, int side, const element_location& first, std::uint64_t neurons,
                            const neuron_match_request& request) {
  return read_column_objects(reader, side, first, neurons, compared_dimensions(side, request));
}

}  // namespace

neuron_match_result compute_neuron_match(std::uint32_t index, const neuron_match_request& request,
                                         block_reader& reader) {
  neuron_match_result result;
  result.request = index;
  const std::size_t na = static_cast<std::size_t>(request.neurons_a), nb = static_cast<std::size_t>(request.neurons_b);
  if (na < 2 || nb < 2 || request.column_count == 0 || request.column_begin + request.column_count > request.hidden ||
      (!request.columns_b.empty() && request.columns_b.size() != request.column_count))
    throw internal_error(fmt::format("neuron match of layer {} {}: malformed request", request.layer, request.group));
  const object_vectors gate_a = read_rows(reader, 0, request.gate_a, na, request);
  const object_vectors gate_b = read_rows(reader, 1, request.gate_b, nb, request);
  const object_vectors up_a = read_rows(reader, 0, request.up_a, na, request);
  const object_vectors up_b = read_rows(reader, 1, request.up_b, nb, request);
  const object_vectors down_a = read_columns(reader, 0, request.down_a, na, request);
  const object_vectors down_b = read_columns(reader, 1, request.down_b, nb, request);
  for (const auto* v : {&gate_a, &gate_b, &up_a, &up_b, &down_a, &down_b})
    if (!v->finite) {
      result.reason = "non-finite values in the compared columns";
      return result;
    }
  std::vector<double> gate = pearson_matrix(gate_a, na, gate_b, nb);
  result.by_gate = maximum_assignment(gate, na, nb);
  std::vector<double> combined = std::move(gate);
  {
    const std::vector<double> up = pearson_matrix(up_a, na, up_b, nb);
    result.by_up = maximum_assignment(up, na, nb);
    for (std::size_t k = 0; k < combined.size(); ++k) combined[k] += up[k];
  }
  {
    const std::vector<double> down = pearson_matrix(down_a, na, down_b, nb);
    for (std::size_t k = 0; k < combined.size(); ++k) combined[k] = (combined[k] + down[k]) / 3;
  }
  result.combined = maximum_assignment(combined, na, nb);
  result.combined_similarity = assignment_score(combined, nb, result.combined) / static_cast<double>(std::min(na, nb));

  // The Spearman sample: A neurons matched in both.
  random_stream stream(request.seed, "neuron matching null", fmt::format("layer {} {}", request.layer, request.group));
  store_agreement(result, result.by_gate, result.by_up, request.permutations, stream,
                  "fewer than two neurons matched in both");
  return result;
}

}  // namespace lineage
