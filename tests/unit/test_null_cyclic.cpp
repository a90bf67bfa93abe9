// The cyclic group's nulls (symmetry_group::form::cyclic): the FFT sums of cyclic correlations
// against direct sums; the draws, shifts of one random order, which close into a group; the direct
// path (every shift at once by FFT, shard/null_cyclic) against the long-double reference and the
// path from cross products, on rows folded with norm weights or not, column blocks, explicit row
// pairs, excluded units and vectors; the same bits whatever the reading's limits; exact ties for a
// tensor the shifts cannot move; and the cost the plan balances with.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "core/random_stream.hpp"
#include "shard/cyclic_correlation.hpp"
#include "shard/permutation_null.hpp"
#include "shard/symmetry_draw.hpp"
#include "permutation_null_support.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using namespace null_test;  // NOLINT: the reference and the helpers every test here uses

void use_cyclic_group(null_request& request) {
  use_plain_group(request);
  request.group.kind = form::cyclic;
}

null_request cyclic_request(const typed_vector& a, const typed_vector& b, const view_shape& view, std::uint64_t seed,
                            std::uint32_t k = 0) {
  null_request request = make_request(a, b, view, k, seed, false);
  use_cyclic_group(request);
  if (k == 0) request.permutations = static_cast<std::uint32_t>(request.tested_units() - 1);
  return request;
}

TEST(CyclicNull, CorrelationSumsEveryShiftAndTheSquares) {
  // Odd and even lengths, 7 lines through batches of 3 (the last one partial).
  for (const std::size_t n : {std::size_t{9}, std::size_t{16}}) {
    SCOPED_TRACE(testing::Message() << "n = " << n);
    random_stream stream(n, "test", "lines");
    std::vector<std::vector<double>> xs(7, std::vector<double>(n)), ys = xs;
    for (auto* lines : {&xs, &ys})
      for (auto& line : *lines)
        for (double& v : line) v = stream.normal();
    cyclic_correlation sums(n, 3);
    for (std::size_t first = 0; first < xs.size(); first += 3) {
      const std::size_t count = std::min<std::size_t>(3, xs.size() - first);
      for (std::size_t l = 0; l < count; ++l)
        for (std::size_t j = 0; j < n; ++j) sums.x(l, j) = xs[first + l][j], sums.y(l, j) = ys[first + l][j];
      sums.add_batch(count);
    }
    const std::vector<double> c = sums.sums();
    ASSERT_EQ(c.size(), n);
    double squares_x = 0, squares_y = 0;
    for (std::size_t l = 0; l < xs.size(); ++l)
      for (std::size_t j = 0; j < n; ++j) squares_x += xs[l][j] * xs[l][j], squares_y += ys[l][j] * ys[l][j];
    for (std::size_t shift = 0; shift < n; ++shift) {
      double expected = 0;
      for (std::size_t l = 0; l < xs.size(); ++l)
        for (std::size_t j = 0; j < n; ++j) expected += xs[l][j] * ys[l][(j + shift) % n];
      EXPECT_NEAR(c[shift], expected, 1e-12 * std::sqrt(squares_x * squares_y)) << "shift " << shift;
    }
    EXPECT_NEAR(sums.squares_x(), squares_x, 1e-12 * squares_x);
    EXPECT_NEAR(sums.squares_y(), squares_y, 1e-12 * squares_y);
  }
}

TEST(CyclicNull, DrawsAreTheShiftsOfOneOrderAndCloseIntoAGroup) {
  const std::uint64_t n = 11;
  const symmetry_group group{form::cyclic, n, 0, 1, 0};
  symmetry_draws draws(group, 77);
  std::set<std::vector<std::uint32_t>> elements;
  std::vector<std::uint32_t> identity(n);
  for (std::uint32_t i = 0; i < n; ++i) identity[i] = i;
  elements.insert(identity);
  std::vector<std::vector<std::uint32_t>> first_round;
  for (std::uint64_t k = 0; k < n - 1; ++k) {
    std::vector<std::uint32_t> image(n);
    draws.next({}, image);
    std::vector<std::uint32_t> sorted = image;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, identity) << "draw " << k << " is a permutation";
    for (std::uint32_t i = 0; i < n; ++i) EXPECT_NE(image[i], i) << "a shift moves every unit";
    elements.insert(image);
    first_round.push_back(image);
  }
  EXPECT_EQ(elements.size(), n);  // n − 1 distinct shifts and the identity
  // Closed under composition: the elements form a group of order n.
  for (const auto& x : elements)
    for (const auto& y : elements) {
      std::vector<std::uint32_t> composed(n);
      for (std::uint32_t i = 0; i < n; ++i) composed[i] = y[x[i]];
      EXPECT_TRUE(elements.count(composed));
    }
  // The order comes from the seed (not the identity order), the shifts 1 … n − 1 are drawn in a
  // random order without repetition, and the next round repeats them.
  EXPECT_NE(cyclic_order(group, 77), identity);
  std::vector<std::uint32_t> shifts = cyclic_shifts(group, 77);
  EXPECT_FALSE(std::is_sorted(shifts.begin(), shifts.end()));
  std::sort(shifts.begin(), shifts.end());
  for (std::uint32_t s = 1; s < n; ++s) EXPECT_EQ(shifts[s - 1], s);
  std::vector<std::uint32_t> again(n);
  draws.next({}, again);
  EXPECT_EQ(again, first_round.front());
  EXPECT_NEAR(log10_group_size(group), std::log10(11.0), 1e-12);
}

TEST(CyclicNull, RowsMatchTheReferenceAndTheProductsFoldedOrNot) {
  for (const dtype type : {dtype::bf16, dtype::f32}) {
    SCOPED_TRACE(dtype_name(type));
    const typed_vector a = random_values(type, 37 * 29, 0.01, 0.02, 3);
    const typed_vector b = random_values(dtype::f32, 37 * 29, 0.0, 0.02, 4);
    expect_both_backends_match(cyclic_request(a, b, {37, 29}, 99), a, b, false);
    const std::vector<float> norm_a = norm_weights(29, 5), norm_b = norm_weights(29, 6);
    expect_both_backends_match(cyclic_request(a, b, {37, 29}, 98), a, b, false, norm_a, norm_b);
    // More draws than shifts: the shifts come round again.
    expect_both_backends_match(cyclic_request(a, b, {37, 29}, 97, 80), a, b, false);
  }
}

TEST(CyclicNull, ColumnBlocksRowPairsAndExcludedUnitsMatchTheReference) {
  const typed_vector a = random_values(dtype::bf16, 70 * 46, 0.1, 1.0, 7);
  const typed_vector b = random_values(dtype::f32, 70 * 46, 0.0, 1.0, 8);
  expect_both_backends_match(cyclic_request(a, b, {70, 46, 1, 1}, 21), a, b, false);
  // Blocks of two columns (a conv's kernel): 23 units.
  expect_both_backends_match(cyclic_request(a, b, {70, 46, 1, 2}, 22), a, b, false);
  // An embedding's shared tokens: explicit row pairs; and units a matching looked at left out.
  null_request pairs = make_request(a, b, {70, 46, 1, 1}, 0, 23, false);
  pairs.rows_a = {69, 0, 5, 5, 33, 12, 40};
  pairs.rows_b = {1, 2, 3, 60, 33, 13, 41};
  pairs.tensor_rows_a = pairs.tensor_rows_b = 70;
  pairs.exclude_begin = 3;
  pairs.exclude_end = 9;
  use_cyclic_group(pairs);
  pairs.permutations = static_cast<std::uint32_t>(pairs.tested_units() - 1);
  expect_both_backends_match(pairs, a, b, false);
}

TEST(CyclicNull, VectorsMatchTheReference) {
  const typed_vector a = random_values(dtype::bf16, 301, 1.0, 0.1, 9);
  const typed_vector b = random_values(dtype::bf16, 301, 1.0, 0.1, 10);
  const null_request request = cyclic_request(a, b, {1, 301, 1, 1}, 31);
  const null_samples samples = run_null(request, a, b);
  EXPECT_FALSE(samples.directions);
  EXPECT_EQ(samples.t.size(), 300U);
  expect_both_backends_match(request, a, b, false);
}

TEST(CyclicNull, SameBitsWhetherRowsAreDecodedWholeOrOneByOne) {
  const typed_vector a = random_values(dtype::bf16, 45 * 30, 0.0, 1.0, 11);
  const typed_vector b = random_values(dtype::bf16, 45 * 30, 0.0, 1.0, 12);
  const std::vector<float> norm_a = norm_weights(30, 13), norm_b = norm_weights(30, 14);
  for (const view_shape view : {view_shape{45, 30}, view_shape{45, 30, 1, 1}, view_shape{45, 30, 1, 3}}) {
    SCOPED_TRACE(testing::Message() << "axis " << int{view.axis} << ", inner " << view.inner);
    const null_request request = cyclic_request(a, b, view, 41);
    const null_reading whole{.norm_a = norm_a, .norm_b = norm_b};
    const null_reading row_by_row{.norm_a = norm_a, .norm_b = norm_b, .float_limit = 0};
    const null_samples first = run_null(request, a, b, whole);
    ASSERT_TRUE(first.usable) << first.reason;
    expect_same_bits(first, run_null(request, a, b, row_by_row));
    expect_same_bits(first, run_null(request, a, b, whole));  // and again: the same plan, the same bits
  }
}

TEST(CyclicNull, ATensorTheShiftsCannotMoveTiesExactly) {
  // Every row of A the same and B constant: every shift gives the observed T and D to the bit,
  // as a direct sum would, so the p is 1 and no spread is made of rounding.
  std::vector<double> row(24), values_a, values_b(40 * 24, 0.5);
  for (std::size_t c = 0; c < row.size(); ++c) row[c] = 0.01 * static_cast<double>(c) - 0.1;
  for (int r = 0; r < 40; ++r) values_a.insert(values_a.end(), row.begin(), row.end());
  const typed_vector a = test::encode(dtype::f32, values_a), b = test::encode(dtype::bf16, values_b);
  for (const view_shape view : {view_shape{40, 24}, view_shape{40, 24, 1, 1}}) {
    SCOPED_TRACE(testing::Message() << "axis " << int{view.axis});
    const null_samples samples = run_null(cyclic_request(a, b, view, 51), a, b);
    ASSERT_TRUE(samples.usable);
    for (const double t : samples.t) EXPECT_EQ(t, samples.observed);
    for (const double d : samples.direction_t) EXPECT_EQ(d, samples.direction_observed);
  }
}

TEST(CyclicNull, CostGrowsWithLinesAndLogUnitsNotWithDraws) {
  const typed_vector a = random_values(dtype::bf16, 8, 0.0, 1.0, 1);
  null_request request = cyclic_request(a, a, {4, 2}, 1);
  request.rows = 5632, request.row_length = 2048;
  use_cyclic_group(request);
  request.permutations = 5631;
  const std::uint64_t cyclic = request.cost();
  // Far below the direct path's (K + 1) passes, and above one pass.
  EXPECT_LT(cyclic, std::uint64_t{5632} * request.pass_cost() / 100);
  EXPECT_GT(cyclic, request.pass_cost());
  request.permutations = 100;
  EXPECT_EQ(request.cost(), cyclic);
}

}  // namespace
}  // namespace lineage
