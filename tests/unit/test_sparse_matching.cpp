// Matching on candidates (issue 20, point 3): the sparse assignment against the dense one and a
// brute force, the candidates a coarse pass keeps, and neuron matching of a wide MLP on a sample
// of its neurons through candidates.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/assignment.hpp"
#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "core/sparse_assignment.hpp"
#include "shard/candidate_similarity.hpp"

namespace lineage {
namespace {

std::vector<double> random_scores(std::size_t rows, std::size_t columns, std::uint64_t seed) {
  random_stream stream(seed, "test", "sparse scores");
  std::vector<double> s(rows * columns);
  for (double& v : s) v = stream.normal();
  return s;
}

candidate_graph complete_graph(const std::vector<double>& score, std::size_t rows, std::size_t columns) {
  candidate_graph g;
  g.columns = columns;
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < columns; ++j) g.add(static_cast<std::uint32_t>(j), score[i * columns + j]);
    g.end_row();
  }
  return g;
}

void expect_injective(const std::vector<std::int32_t>& assigned, std::size_t columns) {
  std::vector<bool> used(columns, false);
  for (const std::int32_t j : assigned) {
    if (j < 0) continue;
    ASSERT_LT(static_cast<std::size_t>(j), columns);
    EXPECT_FALSE(used[static_cast<std::size_t>(j)]) << "column " << j << " assigned twice";
    used[static_cast<std::size_t>(j)] = true;
  }
}

TEST(SparseAssignment, OnACompleteGraphItIsTheDenseOptimum) {
  for (const auto& [rows, columns] : std::vector<std::pair<std::size_t, std::size_t>>{{7, 7}, {5, 40}, {60, 60}, {30, 200}})
    for (std::uint64_t seed = 0; seed < 10; ++seed) {
      SCOPED_TRACE(testing::Message() << rows << " x " << columns << ", seed " << seed);
      const auto score = random_scores(rows, columns, seed);
      const auto sparse = sparse_maximum_assignment(complete_graph(score, rows, columns));
      const auto dense = maximum_assignment(score, rows, columns);
      expect_injective(sparse, columns);
      EXPECT_EQ(std::count(sparse.begin(), sparse.end(), -1), 0);
      EXPECT_NEAR(assignment_score(score, columns, sparse), assignment_score(score, columns, dense), 1e-9);
    }
}

// The best total over every injective assignment of rows to their listed columns that matches as
// many rows as possible (small graphs: by enumeration).
double brute_force(const candidate_graph& g, std::size_t row, std::vector<bool>& used, int& matched, double& best,
                   int matched_so_far, double so_far) {
  if (row == g.rows()) {
    if (matched_so_far > matched || (matched_so_far == matched && so_far > best)) {
      matched = matched_so_far;
      best = so_far;
    }
    return best;
  }
  brute_force(g, row + 1, used, matched, best, matched_so_far, so_far);
  for (std::size_t e = g.begin[row]; e < g.begin[row + 1]; ++e) {
    if (used[g.column[e]]) continue;
    used[g.column[e]] = true;
    brute_force(g, row + 1, used, matched, best, matched_so_far + 1, so_far + g.score[e]);
    used[g.column[e]] = false;
  }
  return best;
}

TEST(SparseAssignment, OnSparseGraphsItMatchesAsManyRowsAsPossibleAtTheBestTotal) {
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    random_stream stream(seed, "test", "sparse graph");
    const std::size_t rows = 2 + stream.below(6), columns = 2 + stream.below(7);
    candidate_graph g;
    g.columns = columns;
    for (std::size_t i = 0; i < rows; ++i) {
      for (std::size_t j = 0; j < columns; ++j)
        if (stream.uniform() < 0.4) g.add(static_cast<std::uint32_t>(j), stream.normal());
      g.end_row();
    }
    const auto assigned = sparse_maximum_assignment(g);
    ASSERT_EQ(assigned.size(), rows);
    expect_injective(assigned, columns);
    int matched = 0;
    double total = 0;
    for (std::size_t i = 0; i < rows; ++i) {
      if (assigned[i] < 0) continue;
      const auto* first = g.column.data() + g.begin[i];
      const auto* last = g.column.data() + g.begin[i + 1];
      const auto* at = std::find(first, last, static_cast<std::uint32_t>(assigned[i]));
      ASSERT_NE(at, last) << "row " << i << " took a column that is not its candidate";
      ++matched;
      total += g.score[static_cast<std::size_t>(at - g.column.data())];
    }
    std::vector<bool> used(columns, false);
    int best_matched = -1;
    double best = -INFINITY;
    brute_force(g, 0, used, best_matched, best, 0, 0.0);
    EXPECT_EQ(matched, best_matched);
    EXPECT_NEAR(total, best, 1e-9);
  }
}

TEST(SparseAssignment, ARowWithoutAFreeCandidateIsLeftOutAndBadGraphsAreRefused) {
  candidate_graph g;
  g.columns = 3;
  g.add(1, 0.9);
  g.end_row();
  g.add(1, 0.5);  // only column 1, which row 0 holds at a better total
  g.end_row();
  g.end_row();  // no candidates at all
  EXPECT_EQ(sparse_maximum_assignment(g), (std::vector<std::int32_t>{1, -1, -1}));
  g.column[0] = 3;
  EXPECT_THROW((void)sparse_maximum_assignment(g), internal_error);
  g.column[0] = 1;
  g.score[1] = NAN;
  EXPECT_THROW((void)sparse_maximum_assignment(g), internal_error);
}

object_vectors random_objects(std::size_t objects, std::size_t length, std::uint64_t seed) {
  random_stream stream(seed, "test", "objects");
  object_vectors v;
  v.length = length;
  v.values.resize(objects * length);
  for (float& x : v.values) x = static_cast<float>(stream.normal());
  standardise(v, objects);
  return v;
}

TEST(CandidateSimilarity, KeepsEachRolesBestCoarseColumnsAndScoresThemExactly) {
  const std::size_t rows = 20, columns = 300, length = 64, coarse = 16, keep = 5;
  const object_vectors a1 = random_objects(rows, length, 1), b1 = random_objects(columns, length, 2);
  const object_vectors a2 = random_objects(rows, length, 3), b2 = random_objects(columns, length, 4);
  const role_objects roles[] = {{&a1, &b1}, {&a2, &b2}};
  const candidate_similarities found = find_candidates(roles, rows, columns, coarse, keep);
  ASSERT_EQ(found.begin.size(), rows + 1);
  ASSERT_EQ(found.by_role.size(), 2u);
  const std::vector<double> exact1 = pearson_matrix(a1, rows, b1, columns), exact2 = pearson_matrix(a2, rows, b2, columns);
  const object_vectors c1a = prefix_objects(a1, rows, coarse), c1b = prefix_objects(b1, columns, coarse);
  const std::vector<double> coarse1 = pearson_matrix(c1a, rows, c1b, columns);
  for (std::size_t i = 0; i < rows; ++i) {
    const std::vector<std::uint32_t> listed(found.column.begin() + static_cast<std::ptrdiff_t>(found.begin[i]),
                                            found.column.begin() + static_cast<std::ptrdiff_t>(found.begin[i + 1]));
    EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end()));
    EXPECT_GE(listed.size(), keep);
    EXPECT_LE(listed.size(), 2 * keep);
    // Role 0's five best coarse columns are all listed.
    std::vector<std::uint32_t> order(columns);
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(),
              [&](std::uint32_t x, std::uint32_t y) { return coarse1[i * columns + x] > coarse1[i * columns + y]; });
    for (std::size_t k = 0; k < keep; ++k)
      EXPECT_NE(std::find(listed.begin(), listed.end(), order[k]), listed.end()) << "row " << i << " rank " << k;
    for (std::size_t e = found.begin[i]; e < found.begin[i + 1]; ++e) {
      EXPECT_NEAR(found.by_role[0][e], exact1[i * columns + found.column[e]], 1e-6);
      EXPECT_NEAR(found.by_role[1][e], exact2[i * columns + found.column[e]], 1e-6);
      EXPECT_NEAR(found.graph(2).score[e], (found.by_role[0][e] + found.by_role[1][e]) / 2, 1e-15);
    }
  }
  EXPECT_THROW((void)prefix_objects(a1, rows, length + 1), internal_error);
}

}  // namespace
}  // namespace lineage
