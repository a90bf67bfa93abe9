#include "shard/hidden_match.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/assignment.hpp"
#include "core/error.hpp"
#include "shard/matching_vectors.hpp"

namespace lineage {

hidden_match_result compute_hidden_match(std::uint32_t index, const hidden_match_request& request,
                                         block_reader& reader) {
  hidden_match_result result;
  result.request = index;
  const auto n = static_cast<std::size_t>(request.hidden), nb = static_cast<std::size_t>(request.hidden_b);
  const std::uint64_t half = request.row_count / 2;
  if (n < 2 || nb < 2 || half < 2 || request.row_count % 2 != 0 || request.row_begin + request.row_count > request.rows_a ||
      request.row_begin + request.row_count > request.rows_b)
    throw internal_error(fmt::format("hidden-dimension match on {}: malformed request", request.role));
  std::vector<double> combined;
  for (const std::uint64_t begin : {request.row_begin, request.row_begin + half}) {
    const std::vector<std::uint32_t> rows = index_range(begin, half);
    const object_vectors a = read_column_objects(reader, 0, request.a, request.hidden, rows);
    const object_vectors b = read_column_objects(reader, 1, request.b, request.hidden_b, rows);
    if (!a.finite || !b.finite) {
      result.reason = fmt::format("non-finite values in the compared rows of {} in model {}", request.role,
                                  a.finite ? 'B' : 'A');
      return result;
    }
    std::vector<double> s = pearson_matrix(a, n, b, nb);
    (begin == request.row_begin ? result.by_first : result.by_second) = maximum_assignment(s, n, nb);
    if (combined.empty()) {
      combined = std::move(s);
    } else {
      for (std::size_t k = 0; k < combined.size(); ++k) combined[k] = (combined[k] + s[k]) / 2;
    }
  }
  result.combined = maximum_assignment(combined, n, nb);
  result.combined_similarity = assignment_score(combined, nb, result.combined) / static_cast<double>(std::min(n, nb));

  random_stream stream(request.seed, "hidden matching null", request.role);
  store_agreement(result, result.by_first, result.by_second, request.permutations, stream,
                  "fewer than two dimensions matched");
  return result;
}

}  // namespace lineage
