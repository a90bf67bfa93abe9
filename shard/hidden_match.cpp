#include "shard/hidden_match.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/assignment.hpp"
#include "core/error.hpp"
#include "core/sparse_assignment.hpp"
#include "shard/block_compute.hpp"
#include "shard/candidate_similarity.hpp"
#include "shard/hidden_rotation.hpp"
#include "shard/matching_vectors.hpp"

namespace lineage {
namespace {

// |s|: a dimension whose sign flipped (function-preserving under RMSNorm) matches as well as one
// that kept it.
std::vector<double> magnitudes(std::vector<double> s) {
  for (double& v : s) v = std::abs(v);
  return s;
}

// The compared rows of both sides, raw, and the rotation estimated from them (the team splits its
// cross products; the lead finishes it).
template <typename Rows>
void add_rotation(hidden_match_result& result, const hidden_match_request& request, block_reader& reader,
                  const Rows& rows_of, const unit_team& team, int lead) {
  const std::uint64_t width = request.hidden, half = request.row_count / 2;
  std::vector<float> a(2 * half * width), b(a.size());
  // Every member reads the rows; all go on only if every member's are finite.
  const auto finite = share_parts(team, [&] {
    bool all = true;
    for (const std::uint64_t h : {0, 1}) {
      all = reader.read_rows(0, request.a, width, rows_of(0, h), {}, a.data() + h * half * width) && all;
      all = reader.read_rows(1, request.b, width, rows_of(1, h), {}, b.data() + h * half * width) && all;
    }
    return all;
  });
  if (!std::all_of(finite.begin(), finite.end(), [](bool f) { return f; })) return;
  std::vector<std::uint32_t> order;
  for (std::size_t d = 0; d < result.combined.size(); ++d)
    if (result.combined[d] >= 0)
      order.push_back(static_cast<std::uint32_t>(result.combined[d]) | (result.negated[d] ? negated_entry : 0u));
  hidden_rotation_estimate estimate = estimate_hidden_rotation(a, b, 2 * half, width, order, team, lead);
  result.rotation = std::move(estimate.rotation);
  result.rotation_fit = estimate.rotation_fit;
  result.identity_fit = estimate.identity_fit;
  result.permutation_fit = estimate.permutation_fit;
}

// pearson_matrix, its rows (A's objects) split over the team: every member receives all of them.
std::vector<double> team_pearson(const object_vectors& a, std::size_t n, const object_vectors& b, std::size_t nb,
                                 const unit_team& team) {
  if (team.members() == 1) return pearson_matrix(a, n, b, nb);
  const auto share = team_share(team, n, 64);
  const std::size_t first = share.first, end = share.second;
  std::vector<double> all;
  all.reserve(n * nb);
  for (const auto& part : share_parts(team, [&] { return pearson_matrix(object_slice(a, first, end - first), end - first, b, nb); }))
    all.insert(all.end(), part.begin(), part.end());
  return all;
}

// Both halves' similarities of every A dimension with every B dimension, each matching an optimal
// assignment on |Pearson|.
void match_dense(const object_vectors (&a)[2], const object_vectors (&b)[2], std::size_t n, std::size_t nb,
                 hidden_match_result& result, const unit_team& team) {
  std::vector<double> combined = team_pearson(a[0], n, b[0], nb, team);
  result.by_first = maximum_assignment(magnitudes(combined), n, nb);
  {
    const std::vector<double> second = team_pearson(a[1], n, b[1], nb, team);
    result.by_second = maximum_assignment(magnitudes(second), n, nb);
    for (std::size_t k = 0; k < combined.size(); ++k) combined[k] = (combined[k] + second[k]) / 2;
  }
  const std::vector<double> strength = magnitudes(combined);
  result.combined = maximum_assignment(strength, n, nb);
  result.combined_similarity = assignment_score(strength, nb, result.combined);
  // A matched pair whose columns correlate negatively is a dimension whose sign flipped.
  result.negated.assign(n, 0);
  for (std::size_t d = 0; d < n; ++d)
    if (const std::int32_t j = result.combined[d]; j >= 0)
      result.negated[d] = combined[d * nb + static_cast<std::size_t>(j)] < 0;
}

// Wide residual streams: candidates from a coarse |Pearson| over the first rows of each half, the
// exact similarities on them, and the assignments on that sparse graph (as for wide MLPs,
// neuron_match.cpp).
void match_sparse(const object_vectors (&a)[2], const object_vectors (&b)[2], std::size_t n, std::size_t nb,
                  hidden_match_result& result, const unit_team& team) {
  const role_objects halves[] = {{&a[0], &b[0]}, {&a[1], &b[1]}};
  const std::size_t coarse = std::min<std::size_t>(hidden_coarse_rows, a[0].length);
  const candidate_similarities found = find_candidates(halves, n, nb, coarse, hidden_candidates, true, team);
  result.by_first = sparse_maximum_assignment(found.graph(0, true));
  result.by_second = sparse_maximum_assignment(found.graph(1, true));
  const candidate_graph mean = found.graph(2), strength = found.graph(2, true);
  result.combined = sparse_maximum_assignment(strength);
  result.combined_similarity = sparse_assignment_score(strength, result.combined);
  // A matched pair whose columns correlate negatively is a dimension whose sign flipped.
  result.negated.assign(n, 0);
  for (std::size_t d = 0; d < n; ++d)
    if (const std::int64_t e = candidate_edge(mean, d, result.combined[d]); e >= 0)
      result.negated[d] = mean.score[static_cast<std::size_t>(e)] < 0;
}

}  // namespace

hidden_match_result compute_hidden_match(std::uint32_t index, const hidden_match_request& request,
                                         block_reader& reader) {
  return compute_hidden_match(index, request, reader, solo_team{}, 0);
}

hidden_match_result compute_hidden_match(std::uint32_t index, const hidden_match_request& request,
                                         block_reader& reader, const unit_team& team, int lead) {
  hidden_match_result result;
  result.request = index;
  const auto n = static_cast<std::size_t>(request.hidden), nb = static_cast<std::size_t>(request.hidden_b);
  const std::uint64_t half = request.row_count / 2;
  const bool listed = !request.compared_a.empty();
  const bool fits = listed ? request.compared_a.size() == request.row_count &&
                                 request.compared_b.size() == request.row_count &&
                                 *std::max_element(request.compared_a.begin(), request.compared_a.end()) < request.rows_a &&
                                 *std::max_element(request.compared_b.begin(), request.compared_b.end()) < request.rows_b
                           : request.row_begin + request.row_count <= std::min(request.rows_a, request.rows_b);
  if (n < 2 || nb < 2 || half < 2 || request.row_count % 2 != 0 || !fits)
    throw internal_error(fmt::format("hidden-dimension match on {}: malformed request", request.role));
  // Side `side`'s rows of half `h`: listed token rows, or a range shared by both.
  const auto rows_of = [&](int side, std::uint64_t h) {
    if (!listed) return index_range(request.row_begin + h * half, half);
    const auto& all = side == 0 ? request.compared_a : request.compared_b;
    return std::vector<std::uint32_t>(all.begin() + static_cast<std::ptrdiff_t>(h * half),
                                      all.begin() + static_cast<std::ptrdiff_t>((h + 1) * half));
  };
  object_vectors a[2], b[2];
  // Every member reads the compared columns (a member's failure reaches all of them, and all stop
  // where one met non-finite values).
  const auto reasons = share_parts(team, [&] {
    for (const std::uint64_t h : {0, 1}) {
      a[h] = read_column_objects(reader, 0, request.a, request.hidden, rows_of(0, h));
      b[h] = read_column_objects(reader, 1, request.b, request.hidden_b, rows_of(1, h));
      if (!a[h].finite || !b[h].finite)
        return fmt::format("non-finite values in the compared rows of {} in model {}", request.role,
                           a[h].finite ? 'B' : 'A');
    }
    return std::string();
  });
  for (const std::string& reason : reasons)
    if (!reason.empty()) {
      result.reason = reason;
      return result;
    }
  if (std::max(n, nb) > hidden_dense_limit)
    match_sparse(a, b, n, nb, result, team);
  else
    match_dense(a, b, n, nb, result, team);

  const auto matched = static_cast<std::size_t>(
      std::count_if(result.combined.begin(), result.combined.end(), [](std::int32_t j) { return j >= 0; }));
  result.combined_similarity = matched == 0 ? 0.0 : result.combined_similarity / static_cast<double>(matched);

  random_stream stream(request.seed, "hidden matching null", request.role);
  store_agreement(result, result.by_first, result.by_second, request.permutations, stream,
                  "fewer than two dimensions matched");
  // The rotation is estimated whenever the widths agree: rank 0 chooses between it and the
  // permutation by their fits on held-out rows (a rotated model's columns can agree on a spurious
  // permutation too).
  if (result.usable && n == nb) add_rotation(result, request, reader, rows_of, team, lead);
  return result;
}

}  // namespace lineage
