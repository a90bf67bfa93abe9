// Input the permutation null cannot use (non-finite values, fewer than two units, no draws,
// planning errors), determinism, and the same draws for every tensor of a unit.
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

// --- input the null cannot use --------------------------------------------------------------------

TEST(PermutationNull, NonFiniteValuesMakeTheNullUnusable) {
  struct injection {
    dtype type;
    bool side_b, infinity;
  };
  for (const injection inject : {injection{dtype::bf16, false, false}, injection{dtype::f32, true, true},
                                 injection{dtype::f64, false, true}, injection{dtype::f16, true, false}}) {
    SCOPED_TRACE(testing::Message() << dtype_name(inject.type) << (inject.side_b ? " in b" : " in a")
                                    << (inject.infinity ? ", inf" : ", nan"));
    typed_vector a = random_values(inject.type, 6 * 10, 0.0, 1.0, 9);
    typed_vector b = random_values(inject.type, 6 * 10, 0.0, 1.0, 10);
    (inject.side_b ? b : a).set_code(47, inject.infinity ? test::inf_code(inject.type) : test::nan_code(inject.type));
    for (const view_shape view : {view_shape{6, 10}, view_shape{6, 10, 1, 2}, view_shape{1, 60, 1, 1}})
      for (const bool products : both_backends)
        for (const std::uint64_t limit : {unbounded_float_limit, std::uint64_t{0}}) {
          null_reading reading;
          reading.float_limit = limit;
          const null_samples samples = run_null(make_request(a, b, view, 10, 3, products), a, b, reading);
          EXPECT_FALSE(samples.usable);
          EXPECT_EQ(samples.reason, "non-finite values");
          EXPECT_TRUE(samples.t.empty());
          EXPECT_EQ(samples.pair, 4U);
        }
  }
}

TEST(PermutationNull, FewerThanTwoUnitsCannotBePermuted) {
  const typed_vector a = random_values(dtype::f32, 12, 0.0, 1.0, 11);
  null_request left_one = make_request(a, a, {3, 4}, 10, 3, false);
  left_one.exclude_begin = 1, left_one.exclude_end = 3;
  use_plain_group(left_one);
  const typed_vector single = random_values(dtype::f32, 1, 0.0, 1.0, 12);
  const std::vector<std::pair<null_request, const typed_vector*>> cases = {
      {make_request(a, a, {1, 12}, 10, 3, false), &a},                      // one row
      {make_request(a, a, {3, 4, 1, 4}, 10, 3, false), &a},                 // one column block
      {make_request(single, single, {1, 1, 1, 1}, 10, 3, false), &single},  // a vector of one element
      {left_one, &a}};                                                      // one row left by the exclusion
  for (const auto& [request, values] : cases) {
    const null_samples samples = run_null(request, *values, *values);
    EXPECT_FALSE(samples.usable);
    EXPECT_EQ(samples.reason, "fewer than two units to permute");
    EXPECT_TRUE(samples.t.empty());
  }
}

// K = 0 is its own reason, the plan's and null_figures' wording, not a degenerate axis.
TEST(PermutationNull, NoDrawsSayNoPermutationsDrawn) {
  const typed_vector a = random_values(dtype::f32, 6 * 12, 0.0, 1.0, 14);
  const null_samples samples = run_null(make_request(a, a, {6, 12}, 0, 3, false), a, a);
  EXPECT_FALSE(samples.usable);
  EXPECT_EQ(samples.reason, "no permutations drawn");
}

TEST(PermutationNull, PlanningErrorsThrow) {
  const typed_vector a = random_values(dtype::f32, 6 * 12, 0.0, 1.0, 13);
  const auto throws = [&](null_request request) { EXPECT_THROW((void)run_null(request, a, a), internal_error); };
  const null_request good = make_request(a, a, {6, 12}, 5, 1, false);
  ASSERT_TRUE(run_null(good, a, a).usable);
  null_request bad = good;
  bad.axis = 2;
  throws(bad);
  bad = make_request(a, a, {6, 12, 1, 5}, 5, 1, false);  // 5 does not divide 12
  throws(bad);
  bad = good;
  bad.exclude_begin = 4, bad.exclude_end = 7;  // beyond the 6 rows
  throws(bad);
  bad = good;
  bad.rows = 5;  // bytes of the wrong size
  use_plain_group(bad);
  throws(bad);
  bad = good;
  bad.group.units = 5;  // the group does not fit the axis
  throws(bad);
  bad = good;
  bad.rows_a = {0};
  bad.rows_b = {0};  // row pairs on axis 0
  bad.tensor_rows_a = bad.tensor_rows_b = 6;
  throws(bad);
  bad = make_request(a, a, {6, 12, 1, 1}, 5, 1, false);
  bad.rows_a = {0, 6};  // a pair outside the tensor
  bad.rows_b = {0, 1};
  bad.tensor_rows_a = bad.tensor_rows_b = 6;
  throws(bad);
}

// --- determinism and shared draws -----------------------------------------------------------------

TEST(PermutationNull, SameRequestSameBitsOtherSeedOtherSamples) {
  const typed_vector a = random_values(dtype::bf16, 30 * 24, 0.0, 1.0, 12);
  const typed_vector b = random_values(dtype::bf16, 30 * 24, 0.0, 1.0, 13);
  for (const bool products : both_backends) {
    SCOPED_TRACE(backend_name(products));
    const null_request request = make_request(a, b, {30, 24}, 40, 555, products);
    const null_samples first = run_null(request, a, b);
    expect_same_bits(first, run_null(request, a, b));
    null_request other = request;
    other.seed = 556;
    const null_samples third = run_null(other, a, b);
    EXPECT_EQ(third.observed, first.observed);
    std::size_t same = 0;
    for (std::size_t k = 0; k < first.t.size(); ++k) same += third.t[k] == first.t[k];
    EXPECT_LT(same, 3U);
    EXPECT_NE(third.randomizer, first.randomizer);
    // A longer run starts with the shorter one's samples.
    null_request longer = request;
    longer.permutations = 61;
    const null_samples extended = run_null(longer, a, b);
    for (std::size_t k = 0; k < first.t.size(); ++k) EXPECT_EQ(extended.t[k], first.t[k]) << "draw " << k;
  }
}

TEST(PermutationNull, TensorsOfOneUnitShareTheirDraws) {
  // The same values in other dtypes: the same floats, draws and bits.
  const typed_vector a = random_values(dtype::bf16, 14 * 11, 0.0, 1.0, 81);
  const typed_vector b = converted(random_values(dtype::bf16, 14 * 11, 0.0, 1.0, 82), dtype::f32);
  const typed_vector a2 = converted(a, dtype::f32), b2 = converted(b, dtype::bf16);
  for (const bool products : both_backends) {
    SCOPED_TRACE(backend_name(products));
    for (const view_shape view : {view_shape{14, 11}, view_shape{14, 11, 1, 1}})
      expect_same_bits(run_null(make_request(a, b, view, 30, 91, products), a, b),
                       run_null(make_request(a2, b2, view, 30, 91, products), a2, b2));
    // Another shape with an axis of the same units: a [14, 11] matrix's rows and its transpose's
    // columns are the same slices, so draw k gives the same T and D.
    std::vector<double> at(a.size()), bt(b.size());
    for (std::size_t r = 0; r < 14; ++r)
      for (std::size_t c = 0; c < 11; ++c) {
        at[c * 14 + r] = test::reference_value(a, r * 11 + c);
        bt[c * 14 + r] = test::reference_value(b, r * 11 + c);
      }
    const typed_vector ta = test::encode(dtype::f32, at), tb = test::encode(dtype::f32, bt);
    const null_request rows = make_request(a, b, {14, 11}, 30, 91, products);
    const reference_null reference(rows, a, b);
    expect_matches(run_null(rows, a, b), reference, false);
    expect_matches(run_null(make_request(ta, tb, {11, 14, 1, 1}, 30, 91, products), ta, tb), reference, false);
  }
}

}  // namespace
}  // namespace lineage
