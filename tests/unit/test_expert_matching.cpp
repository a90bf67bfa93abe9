// Expert matching: the assignment solver (core/assignment) against brute force, the permutation
// null over a subset of rows or explicit row pairs (shard/permutation_null, as matched experts and
// routers use it), and the matching unit itself (shard/expert_match) on real F32 files: it finds a
// hidden permutation of experts, and for unrelated experts its p-value is uniform.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "core/assignment.hpp"
#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "reduce/permutation_test.hpp"
#include "reduce/probability.hpp"
#include "shard/block_compute.hpp"
#include "shard/expert_match.hpp"
#include "shard/kernel.hpp"
#include "shard/permutation_null.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

std::vector<double> random_scores(std::size_t rows, std::size_t columns, std::uint64_t seed) {
  random_stream stream(seed, "test", "scores");
  std::vector<double> score(rows * columns);
  for (double& s : score) s = stream.normal();
  return score;
}

// The best total over every injective map of the smaller side into the larger, by enumeration.
double brute_force_best(const std::vector<double>& score, std::size_t rows, std::size_t columns) {
  const std::size_t small = std::min(rows, columns), large = std::max(rows, columns);
  std::vector<std::size_t> order(large);
  std::iota(order.begin(), order.end(), 0);
  double best = -INFINITY;
  do {
    double total = 0;
    for (std::size_t k = 0; k < small; ++k)
      total += rows <= columns ? score[k * columns + order[k]] : score[order[k] * columns + k];
    best = std::max(best, total);
  } while (std::next_permutation(order.begin(), order.end()));
  return best;
}

TEST(Assignment, FindsTheBestTotalOfSquareAndRectangularProblems) {
  const std::pair<std::size_t, std::size_t> shapes[] = {{1, 1}, {3, 3}, {6, 6}, {4, 7}, {7, 4}, {2, 6}};
  for (const auto& [rows, columns] : shapes)
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
      SCOPED_TRACE(testing::Message() << rows << " x " << columns << ", seed " << seed);
      const auto score = random_scores(rows, columns, seed);
      const auto assigned = maximum_assignment(score, rows, columns);
      ASSERT_EQ(assigned.size(), rows);
      std::vector<bool> used(columns, false);
      std::size_t count = 0;
      for (const std::int32_t column : assigned) {
        if (column < 0) continue;
        ASSERT_LT(static_cast<std::size_t>(column), columns);
        EXPECT_FALSE(used[static_cast<std::size_t>(column)]) << "column " << column << " assigned twice";
        used[static_cast<std::size_t>(column)] = true;
        ++count;
      }
      EXPECT_EQ(count, std::min(rows, columns));
      EXPECT_NEAR(assignment_score(score, columns, assigned), brute_force_best(score, rows, columns), 1e-12);
    }
}

TEST(Assignment, RecoversAHiddenPermutationAndRejectsBadInput) {
  const std::vector<std::int32_t> hidden = {3, 0, 4, 1, 2};
  std::vector<double> score = random_scores(5, 5, 9);
  for (double& s : score) s *= 0.1;
  for (std::size_t i = 0; i < 5; ++i) score[i * 5 + static_cast<std::size_t>(hidden[i])] += 1;
  EXPECT_EQ(maximum_assignment(score, 5, 5), hidden);
  EXPECT_EQ(maximum_assignment({}, 0, 3), std::vector<std::int32_t>{});
  EXPECT_THROW((void)maximum_assignment(score, 4, 5), internal_error);
  score[7] = NAN;
  EXPECT_THROW((void)maximum_assignment(score, 5, 5), internal_error);
}

// --- the permutation null over a subset ------------------------------------------------------

std::span<const std::byte> bytes_of(const test::typed_vector& v) { return {v.data(), v.size() * dtype_size(v.type())}; }

test::typed_vector random_matrix(std::size_t rows, std::size_t length, std::uint64_t seed) {
  return test::encode(dtype::f32, test::normal_values(rows * length, 0.0, 1.0, seed));
}

double row_dot_reference(const test::typed_vector& a, std::size_t i, const test::typed_vector& b, std::size_t j,
                         std::size_t length) {
  long double total = 0;
  for (std::size_t c = 0; c < length; ++c)
    total += static_cast<long double>(test::reference_value(a, i * length + c)) * test::reference_value(b, j * length + c);
  return static_cast<double>(total);
}

// Nulls over a subset of units and over explicit row pairs: test_permutation_null.cpp.

// --- the matching unit on real files ------------------------------------------------------------

// `experts` F32 matrices of rows × columns one after another in one safetensors file.
struct expert_file {
  std::filesystem::path path;
  std::vector<element_location> locations;  // one per expert (one role)
};

expert_file write_experts(const std::filesystem::path& path, const std::vector<std::vector<float>>& experts,
                          std::size_t rows, std::size_t columns) {
  std::vector<test::f32_tensor> tensors;
  for (std::size_t e = 0; e < experts.size(); ++e) tensors.push_back({"e" + std::to_string(e), {rows, columns}, experts[e]});
  return {path, test::write_f32_safetensors(path, tensors)};
}

std::vector<float> random_expert(std::size_t n, random_stream& stream) {
  std::vector<float> values(n);
  for (float& v : values) v = static_cast<float>(stream.normal());
  return values;
}

expert_match_request one_role_request(const expert_file& a, const expert_file& b, std::size_t rows, std::size_t columns,
                                      std::uint32_t permutations, std::uint64_t seed) {
  expert_match_request request;
  request.layer = 3;
  expert_sample_block block;
  block.role = "mlp.experts.up_proj.weight";
  block.rows = rows;
  block.row_length = columns;
  block.row_begin = 4;
  block.row_count = rows / 4;
  block.column_begin = 2;
  block.column_count = columns - 4;
  request.blocks = {block};
  for (std::size_t e = 0; e < a.locations.size(); ++e) request.experts_a.push_back(static_cast<std::int32_t>(e));
  for (std::size_t e = 0; e < b.locations.size(); ++e) request.experts_b.push_back(static_cast<std::int32_t>(e));
  request.a = a.locations;
  request.b = b.locations;
  request.permutations = permutations;
  request.seed = seed;
  return request;
}

TEST(ExpertMatch, FindsPermutedExpertsAfterDriftAndLeavesExtraOnesUnmatched) {
  test::scratch_directory dir("expert-match");
  const std::size_t rows = 32, columns = 24, experts = 6;
  random_stream stream(1, "test", "experts");
  std::vector<std::vector<float>> parent;
  for (std::size_t e = 0; e < experts; ++e) parent.push_back(random_expert(rows * columns, stream));
  // B: parent expert hidden[j] at position j, drifted by noise of half its size; plus two new experts.
  const std::vector<std::size_t> hidden = {4, 2, 0, 5, 1, 3};
  std::vector<std::vector<float>> child;
  for (const std::size_t source : hidden) {
    auto values = parent[source];
    for (float& v : values) v += static_cast<float>(0.5 * stream.normal());
    child.push_back(std::move(values));
  }
  for (int extra = 0; extra < 2; ++extra) child.push_back(random_expert(rows * columns, stream));
  const auto a = write_experts(dir.path() / "a.safetensors", parent, rows, columns);
  const auto b = write_experts(dir.path() / "b.safetensors", child, rows, columns);
  block_reader reader({a.path}, {b.path});
  const auto request = one_role_request(a, b, rows, columns, 50, 7);
  const expert_match_result result = compute_expert_match(2, request, reader);
  ASSERT_TRUE(result.usable) << result.reason;
  EXPECT_EQ(result.request, 2u);
  ASSERT_EQ(result.similarity.size(), experts * (experts + 2));
  // A's expert e went to B's position j with hidden[j] = e.
  std::vector<std::int32_t> expected(experts);
  for (std::size_t j = 0; j < experts; ++j) expected[hidden[j]] = static_cast<std::int32_t>(j);
  EXPECT_EQ(result.matched_b, expected);
  EXPECT_GT(result.score, 0.8);
  ASSERT_EQ(result.null_scores.size(), 50u);
  for (const double s : result.null_scores) EXPECT_LT(s, 0.5);
  const randomized_test test = permutation_test(result.score, result.null_scores, result.randomizer);
  EXPECT_LE(test.p, 1.0 / 51);  // beyond every draw: the floor
  // Same request, same bits.
  const expert_match_result again = compute_expert_match(2, request, reader);
  EXPECT_EQ(again.null_scores, result.null_scores);
  EXPECT_EQ(again.similarity, result.similarity);
}

TEST(ExpertMatch, UnrelatedExpertsGiveUniformPValues) {
  test::scratch_directory dir("expert-null");
  const std::size_t rows = 16, columns = 16, experts = 4;
  std::vector<double> p_values;
  for (std::uint64_t trial = 0; trial < 150; ++trial) {
    random_stream stream(100 + trial, "test", "unrelated experts");
    std::vector<std::vector<float>> side_a, side_b;
    // A common column profile in every expert of both models: structure the null must keep.
    std::vector<float> profile(columns);
    for (float& v : profile) v = static_cast<float>(stream.normal());
    for (std::size_t e = 0; e < experts; ++e) {
      for (auto* side : {&side_a, &side_b}) {
        auto values = random_expert(rows * columns, stream);
        for (std::size_t i = 0; i < values.size(); ++i) values[i] += profile[i % columns];
        side->push_back(std::move(values));
      }
    }
    const auto a = write_experts(dir.path() / "a.safetensors", side_a, rows, columns);
    const auto b = write_experts(dir.path() / "b.safetensors", side_b, rows, columns);
    block_reader reader({a.path}, {b.path});
    const expert_match_result result = compute_expert_match(0, one_role_request(a, b, rows, columns, 99, trial), reader);
    ASSERT_TRUE(result.usable);
    p_values.push_back(permutation_test(result.score, result.null_scores, result.randomizer).p);
  }
  const combined_p ks = kolmogorov_smirnov_uniform(p_values);
  EXPECT_GT(ks.p, 0.01) << "KS D = " << ks.statistic;
  EXPECT_LE(std::count_if(p_values.begin(), p_values.end(), [](double p) { return p <= 0.05; }), 16);
}

TEST(ExpertMatch, NonFiniteSamplesMakeTheUnitUnusable) {
  test::scratch_directory dir("expert-nan");
  random_stream stream(3, "test", "experts");
  std::vector<std::vector<float>> experts = {random_expert(64, stream), random_expert(64, stream)};
  experts[1][4 * 8 + 3] = NAN;  // inside the sampled block
  const auto a = write_experts(dir.path() / "a.safetensors", experts, 8, 8);
  block_reader reader({a.path}, {a.path});
  auto request = one_role_request(a, a, 8, 8, 5, 1);
  request.blocks[0].row_begin = 4;
  request.blocks[0].row_count = 2;
  const expert_match_result result = compute_expert_match(0, request, reader);
  EXPECT_FALSE(result.usable);
  EXPECT_NE(result.reason.find("non-finite"), std::string::npos) << result.reason;
}

}  // namespace
}  // namespace lineage
