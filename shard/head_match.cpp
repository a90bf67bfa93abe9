#include "shard/head_match.hpp"

#include <fmt/format.h>


#include "core/assignment.hpp"
#include "core/error.hpp"

namespace lineage {
namespace {

// The hidden dimensions side `side` compares.
std::vector<std::uint32_t> compared_dimensions(int side, const head_match_request& request) {
  if (side == 1 && !request.columns_b.empty()) return request.columns_b;
  return index_range(request.column_begin, request.column_count);
}

// The head_dim consecutive objects of each head (rows of q/k/v, columns of o, stored one after
// another) become one vector, standardised again so that a dot product is a Pearson correlation.
object_vectors as_heads(object_vectors v, std::uint64_t heads, std::uint64_t head_dim) {
  v.length *= static_cast<std::size_t>(head_dim);
  standardise(v, static_cast<std::size_t>(heads));
  return v;
}

// q_proj, k_proj, v_proj [heads·d, hidden]: a head is d rows, compared on the hidden dimensions.
object_vectors read_row_heads(block_reader& reader, int side, const element_location& first, std::uint64_t heads,
                              const head_match_request& request) {
  return as_heads(read_row_objects(reader, side, first, heads * request.head_dim, request.hidden,
                                   compared_dimensions(side, request)),
                  heads, request.head_dim);
}

// o_proj [hidden, heads·d]: a head is d columns, compared on the hidden dimensions (rows).
object_vectors read_column_heads(block_reader& reader, int side, const element_location& first,
                                 const head_match_request& request) {
  return as_heads(read_column_objects(reader, side, first, request.heads * request.head_dim,
                                      compared_dimensions(side, request)),
                  request.heads, request.head_dim);
}

// The matchings by each of two roles and by their mean similarity.
struct role_matchings {
  std::vector<std::int32_t> first, second, combined;
  double combined_score = 0;
};

role_matchings match_two_roles(const object_vectors& first_a, const object_vectors& first_b,
                               const object_vectors& second_a, const object_vectors& second_b, std::size_t heads) {
  role_matchings m;
  std::vector<double> combined = pearson_matrix(first_a, heads, first_b, heads);
  m.first = maximum_assignment(combined, heads, heads);
  const std::vector<double> second = pearson_matrix(second_a, heads, second_b, heads);
  m.second = maximum_assignment(second, heads, heads);
  for (std::size_t k = 0; k < combined.size(); ++k) combined[k] = (combined[k] + second[k]) / 2;
  m.combined = maximum_assignment(combined, heads, heads);
  m.combined_score = assignment_score(combined, heads, m.combined) / static_cast<double>(heads);
  return m;
}

}  // namespace

head_match_result compute_head_match(std::uint32_t index, const head_match_request& request, block_reader& reader) {
  head_match_result result;
  result.request = index;
  const std::size_t heads = static_cast<std::size_t>(request.heads), kv = static_cast<std::size_t>(request.kv_heads);
  if (heads < 2 || kv == 0 || heads % kv != 0 || request.head_dim == 0 || request.column_count == 0 ||
      request.column_begin + request.column_count > request.hidden || request.permutations == 0 ||
      (!request.columns_b.empty() && request.columns_b.size() != request.column_count))
    throw internal_error(fmt::format("head match of {}layer {}: malformed request", request.prefix, request.layer));
  const object_vectors q_a = read_row_heads(reader, 0, request.q_a, heads, request);
  const object_vectors q_b = read_row_heads(reader, 1, request.q_b, heads, request);
  const object_vectors o_a = read_column_heads(reader, 0, request.o_a, request);
  const object_vectors o_b = read_column_heads(reader, 1, request.o_b, request);
  const object_vectors k_a = read_row_heads(reader, 0, request.k_a, kv, request);
  const object_vectors k_b = read_row_heads(reader, 1, request.k_b, kv, request);
  const object_vectors v_a = read_row_heads(reader, 0, request.v_a, kv, request);
  const object_vectors v_b = read_row_heads(reader, 1, request.v_b, kv, request);
  for (const auto* v : {&q_a, &q_b, &o_a, &o_b, &k_a, &k_b, &v_a, &v_b})
    if (!v->finite) {
      result.reason = "non-finite values in the compared columns";
      return result;
    }
  role_matchings query = match_two_roles(q_a, q_b, o_a, o_b, heads);
  role_matchings key_value = match_two_roles(k_a, k_b, v_a, v_b, kv);
  result.by_q = std::move(query.first);
  result.by_o = std::move(query.second);
  result.combined_q = std::move(query.combined);
  result.combined_similarity = query.combined_score;
  result.by_k = std::move(key_value.first);
  result.by_v = std::move(key_value.second);
  result.combined_kv = std::move(key_value.combined);

  random_stream stream(request.seed, "head matching null", fmt::format("{}layer {}", request.prefix, request.layer));
  store_agreement(result, result.by_q, result.by_o, request.permutations, stream,
                  "fewer than two heads matched by both q_proj and o_proj");
  return result;
}

}  // namespace lineage
