#include "shard/expert_match.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/assignment.hpp"
#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "shard/block_compute.hpp"
#include "shard/matching_vectors.hpp"
#include "shard/kernel.hpp"

namespace lineage {
namespace {

// Every expert's sample as one vector of `length` floats: per role, the block centred on its mean
// and scaled to norm 1/√roles, so that the dot product of two experts' vectors is the mean of their
// per-role Pearson correlations (a constant block contributes 0).
struct expert_samples {
  std::vector<float> values;  // experts × length, row-major
  std::size_t length = 0;
  bool finite = true;
};

expert_samples read_samples(block_reader& reader, int side, const expert_match_request& request,
                            const std::vector<element_location>& locations, std::size_t experts) {
  expert_samples samples;
  samples.length = static_cast<std::size_t>(request.sample_elements());
  samples.values.reserve(experts * samples.length);
  const double role_weight = 1.0 / std::sqrt(static_cast<double>(request.blocks.size()));
  std::vector<float> read;
  std::vector<double> block_values;
  for (std::size_t e = 0; e < experts; ++e)
    for (std::size_t r = 0; r < request.blocks.size(); ++r) {
      const auto& block = request.blocks[r];
      const element_location& first = locations[e * request.blocks.size() + r];
      const bool aligned = side == 1;
      const std::vector<std::uint32_t> rows = aligned && !block.rows_b.empty()
                                                  ? block.rows_b
                                                  : index_range(block.row_begin, block.row_count);
      const std::vector<std::uint32_t> columns = aligned && !block.columns_b.empty()
                                                     ? block.columns_b
                                                     : index_range(block.column_begin, block.column_count);
      read.resize(static_cast<std::size_t>(block.elements()));
      samples.finite = reader.read_rows(side, first, block.row_length, rows, columns, read.data()) && samples.finite;
      block_values.assign(read.begin(), read.end());
      double mean = 0;
      for (const double v : block_values) mean += v;
      mean /= static_cast<double>(block_values.size());
      double squares = 0;
      for (double& v : block_values) {
        v -= mean;
        squares += v * v;
      }
      const double scale = squares > 0 ? role_weight / std::sqrt(squares) : 0.0;
      for (const double v : block_values) samples.values.push_back(static_cast<float>(v * scale));
    }
  return samples;
}

// experts_a × experts_b dot products of the sample vectors.
void similarity_matrix(const expert_samples& a, std::size_t experts_a, const float* b, std::size_t experts_b,
                       std::vector<double>& out) {
  out.resize(experts_a * experts_b);
  dot_product_matrix(a.values.data(), experts_a, b, experts_b, a.length, out.data());
}

double mean_matched(const std::vector<double>& similarity, std::size_t experts_a, std::size_t experts_b,
                    std::vector<std::int32_t>* matched) {
  const auto assignment = maximum_assignment(similarity, experts_a, experts_b);
  const double total = assignment_score(similarity, experts_b, assignment);
  const double pairs = static_cast<double>(std::min(experts_a, experts_b));
  if (matched != nullptr) *matched = assignment;
  return total / pairs;
}

}  // namespace

expert_match_result compute_expert_match(std::uint32_t index, const expert_match_request& request,
                                         block_reader& reader) {
  expert_match_result result;
  result.request = index;
  const std::size_t experts_a = request.experts_a.size(), experts_b = request.experts_b.size();
  if (request.blocks.empty() || experts_a == 0 || experts_b == 0 ||
      request.a.size() != experts_a * request.blocks.size() || request.b.size() != experts_b * request.blocks.size())
    throw internal_error(fmt::format("expert match of {}layer {}: malformed request", request.role_prefix, request.layer));
  const expert_samples a = read_samples(reader, 0, request, request.a, experts_a);
  const expert_samples b = read_samples(reader, 1, request, request.b, experts_b);
  if (!a.finite || !b.finite) {
    result.reason = fmt::format("non-finite values in the sampled blocks of model {}", a.finite ? 'B' : 'A');
    return result;
  }
  similarity_matrix(a, experts_a, b.values.data(), experts_b, result.similarity);
  result.score = mean_matched(result.similarity, experts_a, experts_b, &result.matched_b);

  // The null: the sampled neurons of every B expert permuted (one permutation per expert, applied to
  // every role: rows of gate/up, columns of down), which is a symmetry of B, then matched again.
  random_stream stream(request.seed, "expert matching null", fmt::format("{}layer {}", request.role_prefix, request.layer));
  std::vector<float> shuffled(b.values.size());
  std::vector<std::uint32_t> order;
  std::vector<double> similarity;
  result.null_scores.reserve(request.permutations);
  for (std::uint32_t k = 0; k < request.permutations; ++k) {
    for (std::size_t f = 0; f < experts_b; ++f) {
      std::size_t offset = f * b.length;
      const bool down_first = request.blocks.front().role.ends_with("down_proj.weight");
      order.resize(static_cast<std::size_t>(down_first ? request.blocks.front().column_count
                                                      : request.blocks.front().row_count));
      random_permutation(stream, order);
      for (const auto& block : request.blocks) {
        const auto rows = static_cast<std::size_t>(block.row_count), width = static_cast<std::size_t>(block.column_count);
        const bool columns = block.role.ends_with("down_proj.weight");
        if ((columns ? width : rows) != order.size())
          throw internal_error("expert match: roles sample different numbers of neurons");
        for (std::size_t i = 0; i < rows; ++i)
          for (std::size_t j = 0; j < width; ++j) {
            const std::size_t from = columns ? i * width + order[j] : order[i] * width + j;
            shuffled[offset + i * width + j] = b.values[offset + from];
          }
        offset += rows * width;
      }
    }
    similarity_matrix(a, experts_a, shuffled.data(), experts_b, similarity);
    result.null_scores.push_back(mean_matched(similarity, experts_a, experts_b, nullptr));
  }
  result.randomizer = 1 - stream.uniform();
  result.usable = true;
  return result;
}

}  // namespace lineage
