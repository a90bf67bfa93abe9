// What the permutation null reads: excluded units and explicit row pairs left out or met, and the
// same bits whether a side is decoded whole or row by row and whether B is read in A's order or
// through an alignment.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "reduce/null_figures.hpp"
#include "reduce/probability.hpp"
#include "reduce/tensor_stats.hpp"
#include "shard/kernel.hpp"
#include "shard/permutation_null.hpp"
#include "shard/work_block.hpp"
#include "permutation_null_support.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using namespace null_test;  // NOLINT: the reference and the helpers every test here uses

// --- excluded units and explicit row pairs --------------------------------------------------------

// Sets every element of the excluded units' slices on both sides to a large value, so that a draw
// or a moment that reached them would be far off.
void poison_excluded(const null_request& request, typed_vector& a, typed_vector& b) {
  for (std::uint64_t u = request.exclude_begin; u < request.exclude_end; ++u) {
    for (const std::size_t at : slice_of(request, u, false)) a.set_value(at, 1000.0);
    for (const std::size_t at : slice_of(request, u, true)) b.set_value(at, -1000.0);
  }
}

// The tested elements of one side, in slice order.
typed_vector tested_elements(const null_request& request, const typed_vector& v, bool side_b) {
  std::vector<std::size_t> at;
  for (const std::uint64_t unit : tested_unit_list(request)) {
    const auto slice = slice_of(request, unit, side_b);
    at.insert(at.end(), slice.begin(), slice.end());
  }
  typed_vector out(v.type(), at.size());
  for (std::size_t k = 0; k < at.size(); ++k) out.set_code(k, v.code(at[k]));
  return out;
}

void expect_subset_matches(null_request request, typed_vector a, typed_vector b) {
  use_plain_group(request);
  poison_excluded(request, a, b);
  const typed_vector tested_a = tested_elements(request, a, false), tested_b = tested_elements(request, b, true);
  const pair_moments expected =
      pair_moments::from_block(compute_block_sums(tested_a.run(), tested_b.run(), tested_a.size()));
  // Cauchy–Schwarz over the tested elements bounds every |T|, whatever the draws.
  const double bound = std::sqrt(expected.raw_aa * expected.raw_bb) * (1 + 1e-6);
  expect_both_backends_match(request, a, b, false);
  for (const bool products : both_backends) {
    SCOPED_TRACE(backend_name(products));
    request.from_products = products;
    const null_samples samples = run_null(request, a, b);
    ASSERT_TRUE(samples.usable);
    EXPECT_TRUE(samples.subset);
    EXPECT_EQ(samples.tested_units, request.tested_units());
    EXPECT_EQ(samples.tested.count, tested_a.size());
    EXPECT_TRUE(test::moments_close(samples.tested, expected, 1e-6));  // single-precision partials
    for (const double t : samples.t) EXPECT_LE(std::fabs(t), bound);
  }
}

TEST(PermutationNull, ExcludedUnitsAreLeftOutOfTheTestAndTheDraws) {
  const typed_vector a = random_values(dtype::bf16, 10 * 9, 0.0, 1.0, 51);
  const typed_vector b = random_values(dtype::f32, 10 * 9, 0.0, 1.0, 52);
  null_request rows = make_request(a, b, {10, 9}, 23, 17, false);
  for (const auto& [begin, end] : {std::pair{3, 6}, std::pair{0, 4}, std::pair{7, 10}}) {
    SCOPED_TRACE(testing::Message() << "rows [" << begin << ", " << end << ")");
    rows.exclude_begin = begin, rows.exclude_end = end;
    expect_subset_matches(rows, a, b);
  }
  // Column blocks of 2 columns: 8 units.
  const typed_vector c = random_values(dtype::f32, 6 * 16, 0.0, 1.0, 53);
  const typed_vector d = random_values(dtype::bf16, 6 * 16, 0.0, 1.0, 54);
  null_request columns = make_request(c, d, {6, 16, 1, 2}, 23, 17, false);
  for (const auto& [begin, end] : {std::pair{5, 8}, std::pair{0, 2}, std::pair{3, 4}}) {
    SCOPED_TRACE(testing::Message() << "column blocks [" << begin << ", " << end << ")");
    columns.exclude_begin = begin, columns.exclude_end = end;
    expect_subset_matches(columns, c, d);
  }
}

TEST(PermutationNull, ExplicitRowPairsMeetTheirRows) {
  // An embedding's shared tokens: A has 9 rows, B 7; the slices run down the listed pairs only.
  const typed_vector a = random_values(dtype::bf16, 9 * 12, 0.0, 1.0, 61);
  const typed_vector b = random_values(dtype::f32, 7 * 12, 0.0, 1.0, 62);
  for (const std::uint64_t inner : {std::uint64_t{1}, std::uint64_t{3}}) {
    SCOPED_TRACE(testing::Message() << "inner " << inner);
    null_request request = make_request(a, b, {9, 12, 1, inner}, 19, 23, false);
    request.rows_a = {0, 3, 8, 5, 3};
    request.rows_b = {6, 0, 2, 2, 4};
    request.tensor_rows_a = 9;
    request.tensor_rows_b = 7;
    expect_both_backends_match(request, a, b, false);
    // With the first column block left out.
    request.exclude_begin = 0, request.exclude_end = 1;
    expect_subset_matches(request, a, b);
  }
  // More pairs than one chunk of rows of the products path (64), rows repeated on both sides.
  random_stream stream(5, "test", "row pairs");
  null_request many = make_request(a, b, {9, 12, 1, 2}, 19, 29, false);
  for (int k = 0; k < 150; ++k) {
    many.rows_a.push_back(static_cast<std::uint32_t>(stream.below(9)));
    many.rows_b.push_back(static_cast<std::uint32_t>(stream.below(7)));
  }
  many.tensor_rows_a = 9;
  many.tensor_rows_b = 7;
  expect_both_backends_match(many, a, b, false);
}

// --- decoding whole or row by row -----------------------------------------------------------------

TEST(PermutationNull, RowByRowDecodingGivesTheSameBits) {
  const typed_vector a = random_values(dtype::bf16, 70 * 18, 0.0, 1.0, 71);
  const typed_vector b = random_values(dtype::f32, 70 * 18, 0.0, 1.0, 72);
  const std::vector<float> norm_a = norm_weights(18, 3), norm_b = norm_weights(18, 4);
  struct case_ {
    const char* name;
    view_shape view;
    std::uint64_t exclude_begin = 0, exclude_end = 0;
    bool pairs = false;
  };
  for (const case_& c : {case_{"rows", {70, 18}}, case_{"rows, subset", {70, 18}, 10, 20},
                         case_{"columns", {70, 18, 1, 1}}, case_{"conv columns", {70, 18, 1, 3}, 1, 2},
                         case_{"row pairs", {70, 18, 1, 2}, 0, 0, true}, case_{"vector", {1, 70 * 18, 1, 1}}}) {
    for (const bool products : both_backends) {
      SCOPED_TRACE(testing::Message() << c.name << ", " << backend_name(products));
      null_request request = make_request(a, b, c.view, 20, 29, products);
      request.exclude_begin = c.exclude_begin, request.exclude_end = c.exclude_end;
      if (c.pairs) {
        request.rows_a = {69, 0, 5, 5, 33, 12};
        request.rows_b = {1, 2, 3, 60, 33, 13};
        request.tensor_rows_a = request.tensor_rows_b = 70;
      }
      use_plain_group(request);
      const null_reading whole{.norm_a = norm_a, .norm_b = norm_b};
      const null_reading row_by_row{.norm_a = norm_a, .norm_b = norm_b, .float_limit = 0};
      const null_samples first = run_null(request, a, b, whole);
      ASSERT_TRUE(first.usable) << first.reason;
      expect_same_bits(first, run_null(request, a, b, row_by_row));
    }
  }
}

TEST(PermutationNull, OneSideWholeTheOtherRowByRowGivesTheSameBits) {
  // Row pairs between tensors of 9 and 7 rows: a limit of 8 rows of floats decodes B whole and A
  // row by row.
  const typed_vector a = random_values(dtype::f32, 9 * 12, 0.0, 1.0, 63);
  const typed_vector b = random_values(dtype::bf16, 7 * 12, 0.0, 1.0, 64);
  for (const bool products : both_backends) {
    SCOPED_TRACE(backend_name(products));
    null_request request = make_request(a, b, {9, 12, 1, 2}, 19, 23, products);
    request.rows_a = {0, 3, 8, 5, 3};
    request.rows_b = {6, 0, 2, 2, 4};
    request.tensor_rows_a = 9;
    request.tensor_rows_b = 7;
    null_reading mixed;
    mixed.float_limit = 8 * 12 * sizeof(float);
    expect_same_bits(run_null(request, a, b), run_null(request, a, b, mixed));
  }
}

// B as stored in its own order, and the alignment that reads it in A's: rows (unless `rows_too`
// is false) and columns in another order, some of them negated.
struct stored_b {
  typed_vector values;
  b_alignment alignment;
};

stored_b stored_in_own_order(const typed_vector& aligned, std::uint64_t rows, std::uint64_t row_length, bool rows_too,
                             std::uint64_t seed) {
  random_stream stream(seed, "test", "alignment");
  stored_b out{typed_vector(aligned.type(), aligned.size()), {}};
  out.alignment.b.type = aligned.type();
  out.alignment.rows = rows;
  out.alignment.row_length = row_length;
  const auto signed_order = [&](std::uint64_t n) {
    std::vector<std::uint32_t> order(n);
    random_permutation(stream, order);
    for (auto& entry : order)
      if (stream.below(3) == 0) entry |= negated_entry;
    return order;
  };
  if (rows_too) out.alignment.row_order = signed_order(rows);
  out.alignment.column_order = signed_order(row_length);
  for (std::uint64_t q = 0; q < rows; ++q)
    for (std::uint64_t c = 0; c < row_length; ++c) {
      const std::uint32_t row = rows_too ? out.alignment.row_order[q] : static_cast<std::uint32_t>(q);
      const std::uint32_t column = out.alignment.column_order[c];
      const double value = test::reference_value(aligned, q * row_length + c);
      out.values.set_value(index_of(row) * row_length + index_of(column),
                           is_negated(row) != is_negated(column) ? -value : value);
    }
  return out;
}

TEST(PermutationNull, AlignedBGivesTheBitsOfBInAOrder) {
  const typed_vector a = random_values(dtype::f32, 40 * 18, 0.0, 1.0, 73);
  const typed_vector b = random_values(dtype::bf16, 40 * 18, 0.0, 1.0, 74);
  const std::vector<float> norm_a = norm_weights(18, 5), norm_b = norm_weights(18, 6);
  for (const bool pairs : {false, true}) {
    const stored_b stored = stored_in_own_order(b, 40, 18, !pairs, 75);
    for (const view_shape view : {view_shape{40, 18}, view_shape{40, 18, 1, 1}, view_shape{40, 18, 1, 3}}) {
      if (pairs && view.axis == 0) continue;
      null_request request = make_request(a, b, view, 20, 31, false);
      request.exclude_begin = 1, request.exclude_end = 2;
      if (pairs) {
        request.rows_a = {39, 0, 7, 7, 20};
        request.rows_b = {1, 2, 3, 38, 20};
        request.tensor_rows_a = request.tensor_rows_b = 40;
      }
      use_plain_group(request);
      for (const bool products : both_backends)
        for (const std::uint64_t limit : {unbounded_float_limit, std::uint64_t{0}}) {
          SCOPED_TRACE(testing::Message() << (pairs ? "row pairs, " : "") << "axis " << int{view.axis} << ", inner "
                                          << view.inner << ", " << backend_name(products) << ", limit " << limit);
          request.from_products = products;
          const null_reading in_order{.norm_a = norm_a, .norm_b = norm_b, .float_limit = limit};
          null_reading through = in_order;
          through.alignment_b = &stored.alignment;
          expect_same_bits(run_null(request, a, b, in_order), run_null(request, a, stored.values, through));
        }
    }
  }
}

}  // namespace
}  // namespace lineage
