// The permutation null (shard/permutation_null and its paths in null_rows, null_columns and
// null_products) against a long-double recomputation (permutation_null_support.hpp): rows and
// column blocks, vectors, slice directions folded with norm weights or not, head and within-head
// groups, for both backends (every draw a pass, or from cross products).
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

// --- plain groups against the reference -----------------------------------------------------------

TEST(PermutationNull, RowSamplesMatchTheReference) {
  // 13 rows of 77: the row kernel's 32-wide loop, its 8-wide loop and a scalar tail; K = 19 is two
  // batches of 8 draws and three.
  for (const dtype type : {dtype::bf16, dtype::f32}) {
    SCOPED_TRACE(dtype_name(type));
    const typed_vector a = random_values(type, 13 * 77, 0.0, 0.02, 3);
    const typed_vector b = random_values(dtype::f32, 13 * 77, 0.0, 0.02, 4);
    expect_both_backends_match(make_request(a, b, {13, 77}, 19, 99, false), a, b, false);
  }
}

TEST(PermutationNull, ColumnSamplesMatchTheReference) {
  for (const dtype type : {dtype::bf16, dtype::f32}) {
    SCOPED_TRACE(dtype_name(type));
    // A matrix's columns: 70 rows (more than one chunk of 64 rows) of 23 columns.
    const typed_vector a = random_values(type, 70 * 23, 0.1, 1.0, 5);
    const typed_vector b = random_values(dtype::f32, 70 * 23, 0.0, 1.0, 6);
    expect_both_backends_match(make_request(a, b, {70, 23, 1, 1}, 21, 7, false), a, b, false);
    // A conv [out 7, in 9, kernel 3]: the unit is an input channel, its slice 7 × 3 elements.
    const typed_vector conv_a = random_values(type, 7 * 27, 0.0, 1.0, 8);
    const typed_vector conv_b = random_values(type, 7 * 27, 0.0, 1.0, 9);
    expect_both_backends_match(make_request(conv_a, conv_b, {7, 27, 1, 3}, 21, 11, false), conv_a, conv_b, false);
  }
}

TEST(PermutationNull, ExactValuesGiveExactSumsOnEveryPath) {
  // Every product and partial sum is exact in single precision, so the direct path, the
  // single-precision dot kernels of the products path and the long-double reference agree exactly.
  for (const dtype type : {dtype::bf16, dtype::f32}) {
    SCOPED_TRACE(dtype_name(type));
    const typed_vector a = exact_values(type, 9 * 37, 5);
    const typed_vector b = exact_values(dtype::bf16, 9 * 37, 6);
    for (const view_shape view : {view_shape{9, 37}, view_shape{9, 37, 1, 1}, view_shape{1, 9 * 37, 1, 1},
                                  view_shape{3, 111, 1, 3}, view_shape{9 * 37, 1}}) {
      SCOPED_TRACE(testing::Message() << view.rows << " × " << view.row_length << ", axis " << int{view.axis}
                                      << ", inner " << view.inner);
      expect_both_backends_match(make_request(a, b, view, 17, 7, false), a, b, true);
    }
  }
}

TEST(PermutationNull, IdenticalSidesHaveTheLargestObservedValue) {
  // T_identity = Σ‖aᵢ‖² ≥ Σ⟨aᵢ, a_π(i)⟩ by Cauchy–Schwarz, and D_identity = slices ≥ D_π.
  const typed_vector a = random_values(dtype::bf16, 20 * 16, 0.0, 1.0, 8);
  for (const bool products : both_backends) {
    SCOPED_TRACE(backend_name(products));
    const null_samples samples = run_null(make_request(a, a, {20, 16}, 50, 1, products), a, a);
    ASSERT_TRUE(samples.usable);
    for (const double t : samples.t) EXPECT_LE(t, samples.observed);
    EXPECT_NEAR(samples.direction_observed, 20.0, 1e-5);
    for (const double d : samples.direction_t) EXPECT_LT(d, samples.direction_observed);
  }
}

// --- vectors --------------------------------------------------------------------------------------

TEST(PermutationNull, VectorSamplesAreExactDoubleSumsInElementOrder) {
  // A vector's direct path multiplies in double (exact for decoded floats) and sums in element
  // order; from products its single-precision dot kernel rounds each product.
  for (const dtype type_a : {dtype::bf16, dtype::f32}) {
    for (const dtype type_b : {dtype::bf16, dtype::f32}) {
      SCOPED_TRACE(testing::Message() << dtype_name(type_a) << " vs " << dtype_name(type_b));
      const typed_vector a = random_values(type_a, 97, 1.0, 0.1, 1);
      const typed_vector b = random_values(type_b, 97, 1.0, 0.1, 2);
      const null_request request = make_request(a, b, {1, 97, 1, 1}, 21, 1234, false);
      const reference_null reference(request, a, b);
      const null_samples samples = run_null(request, a, b);
      ASSERT_TRUE(samples.usable);
      EXPECT_FALSE(samples.directions);  // one element per slice: no direction
      EXPECT_TRUE(samples.direction_t.empty());
      const auto straightforward = [&](const std::uint32_t* perm) {
        double total = 0;
        for (std::size_t i = 0; i < 97; ++i)
          total += test::reference_value(a, i) * test::reference_value(b, perm ? perm[i] : i);
        return total;
      };
      EXPECT_EQ(std::bit_cast<std::uint64_t>(samples.observed), std::bit_cast<std::uint64_t>(straightforward(nullptr)));
      ASSERT_EQ(samples.t.size(), 21U);
      for (std::size_t k = 0; k < 21; ++k)
        EXPECT_EQ(std::bit_cast<std::uint64_t>(samples.t[k]),
                  std::bit_cast<std::uint64_t>(straightforward(reference.draws()[k].data())))
            << "draw " << k;
      expect_both_backends_match(request, a, b, false);
    }
  }
}

// --- slice directions -----------------------------------------------------------------------------

TEST(PermutationNull, DirectionsAreSumsOfSliceCosines) {
  const typed_vector a = random_values(dtype::f32, 12 * 40, 0.0, 1.0, 21);
  const typed_vector b = random_values(dtype::bf16, 12 * 40, 0.0, 1.0, 22);
  const std::vector<float> norm_a = norm_weights(40, 1), norm_b = norm_weights(40, 2);
  const null_request rows = make_request(a, b, {12, 40}, 25, 3, false);
  {
    SCOPED_TRACE("rows, unfolded");
    expect_both_backends_match(rows, a, b, false);
  }
  {
    SCOPED_TRACE("rows folded with norm weights");
    expect_both_backends_match(rows, a, b, false, norm_a, norm_b);
  }
  {
    // Norm weights fold rows only: a column's elements do not each read their own weight.
    SCOPED_TRACE("columns, weights given");
    const null_request columns = make_request(a, b, {40, 12, 1, 1}, 25, 3, false);
    expect_both_backends_match(columns, a, b, false, norm_weights(12, 1), norm_weights(12, 2));
  }
  {
    // A zero slice has no direction: its cosines count 0 on both backends.
    SCOPED_TRACE("a zero row");
    typed_vector zero_row = a;
    for (std::size_t c = 0; c < 40; ++c) zero_row.set_value(5 * 40 + c, 0.0);
    expect_both_backends_match(rows, zero_row, b, false);
  }
  {
    SCOPED_TRACE("a zero column");
    typed_vector zero_column = b;
    for (std::size_t r = 0; r < 40; ++r) zero_column.set_value(r * 12 + 7, 0.0);
    expect_both_backends_match(make_request(a, zero_column, {40, 12, 1, 1}, 25, 3, false), a, zero_column, false);
  }
}

TEST(PermutationNull, DirectionsSeeThroughRowAndNormRescaling) {
  // B's rows rescaled by positive factors, or a norm weight's factor moved into the columns of the
  // matrix that reads it, leave D at its maximum of one per row, while T moves.
  random_stream stream(11, "test", "directions");
  const std::size_t rows = 40, length = 24;
  std::vector<double> a(rows * length), rescaled(rows * length), folded_b(rows * length);
  std::vector<float> norm_a(length), norm_b(length);
  for (std::size_t j = 0; j < length; ++j) {
    norm_a[j] = static_cast<float>(std::exp(0.2 * stream.normal()));
    const double s = std::exp(0.8 * stream.normal());
    norm_b[j] = static_cast<float>(norm_a[j] * s);
    for (std::size_t i = 0; i < rows; ++i) a[i * length + j] = stream.normal();
    for (std::size_t i = 0; i < rows; ++i) folded_b[i * length + j] = a[i * length + j] / s;
  }
  for (std::size_t i = 0; i < rows; ++i) {
    const double c = std::exp(stream.normal());
    for (std::size_t j = 0; j < length; ++j) rescaled[i * length + j] = c * a[i * length + j];
  }
  const typed_vector ta = test::encode(dtype::f32, a), tr = test::encode(dtype::f32, rescaled),
                     tf = test::encode(dtype::f32, folded_b);
  for (const bool products : both_backends) {
    SCOPED_TRACE(backend_name(products));
    const null_request request = make_request(ta, tr, {rows, length}, 30, 5, products);
    const null_samples by_rows = run_null(request, ta, tr);
    ASSERT_TRUE(by_rows.usable);
    EXPECT_TRUE(by_rows.directions);
    EXPECT_FALSE(by_rows.folded);
    EXPECT_NEAR(by_rows.direction_observed, static_cast<double>(rows), 1e-5);
    for (const double d : by_rows.direction_t) EXPECT_LT(d, by_rows.direction_observed);
    const null_samples by_norm = run_null(request, ta, tf, {.norm_a = norm_a, .norm_b = norm_b});
    ASSERT_TRUE(by_norm.usable);
    EXPECT_TRUE(by_norm.folded);
    EXPECT_NEAR(by_norm.direction_observed, static_cast<double>(rows), 1e-4);
    // Unfolded, the same pair is far from its maximum: its columns were rescaled.
    const null_samples unfolded = run_null(request, ta, tf);
    EXPECT_LT(unfolded.direction_observed, 0.9 * static_cast<double>(rows));
    // T does not depend on the fold.
    EXPECT_EQ(bits_of(unfolded.t), bits_of(by_norm.t));
    EXPECT_EQ(unfolded.observed, by_norm.observed);
  }
}

// --- head and within-head groups ------------------------------------------------------------------

// 2 KV heads of 4 dimensions, 3 query heads each.
constexpr std::uint64_t kv_heads = 2, query_per_kv = 3, head_dim = 4;

// A request on `a`, `b` whose axis is laid out as `layout` in `group`.
null_request head_request(const typed_vector& a, const typed_vector& b, const view_shape& view,
                          const symmetry_group& group, axis_layout layout) {
  null_request request = make_request(a, b, view, 24, 13, false);
  request.group = group;
  request.layout = std::move(layout);
  EXPECT_TRUE(fits(request.group, request.layout, request.tested_units()));
  return request;
}

TEST(PermutationNull, HeadGroupsOnBothBackendsMatchTheReference) {
  const std::uint64_t query_rows = kv_heads * query_per_kv * head_dim, kv_rows = kv_heads * head_dim, hidden = 10;
  const typed_vector q_a = random_values(dtype::bf16, query_rows * hidden, 0.0, 1.0, 31);
  const typed_vector q_b = random_values(dtype::bf16, query_rows * hidden, 0.0, 1.0, 32);
  const typed_vector k_a = random_values(dtype::f32, kv_rows * hidden, 0.0, 1.0, 33);
  const typed_vector k_b = random_values(dtype::f32, kv_rows * hidden, 0.0, 1.0, 34);
  // o_proj [hidden, heads · head_dim]: the query axis on its columns.
  const typed_vector o_a = random_values(dtype::f32, hidden * query_rows, 0.0, 1.0, 35);
  const typed_vector o_b = random_values(dtype::f32, hidden * query_rows, 0.0, 1.0, 36);
  for (const std::uint64_t within : {std::uint64_t{0}, head_dim}) {
    SCOPED_TRACE(testing::Message() << "dimensions permuted inside heads: " << within);
    const symmetry_group group{form::heads, 0, kv_heads, query_per_kv, within};
    {
      SCOPED_TRACE("q_proj rows");
      expect_both_backends_match(head_request(q_a, q_b, {query_rows, hidden}, group, {role::query, head_dim, {}}), q_a,
                                 q_b, false);
    }
    {
      SCOPED_TRACE("k_proj rows");
      expect_both_backends_match(head_request(k_a, k_b, {kv_rows, hidden}, group, {role::key_value, head_dim, {}}), k_a,
                                 k_b, false);
    }
    {
      SCOPED_TRACE("o_proj columns");
      expect_both_backends_match(head_request(o_a, o_b, {hidden, query_rows, 1, 1}, group, {role::query, head_dim, {}}),
                                 o_a, o_b, false);
    }
  }
}

TEST(PermutationNull, WithinGroupsOnBothBackendsMatchTheReference) {
  const std::uint64_t query_columns = kv_heads * query_per_kv * head_dim, kv_rows = kv_heads * head_dim, hidden = 9;
  const symmetry_group group{form::within, 0, kv_heads, query_per_kv, head_dim};
  const typed_vector v_a = random_values(dtype::f32, kv_rows * hidden, 0.0, 1.0, 41);
  const typed_vector v_b = random_values(dtype::bf16, kv_rows * hidden, 0.0, 1.0, 42);
  const typed_vector o_a = random_values(dtype::f32, hidden * query_columns, 0.0, 1.0, 43);
  const typed_vector o_b = random_values(dtype::f32, hidden * query_columns, 0.0, 1.0, 44);
  {
    SCOPED_TRACE("v_proj rows");
    expect_both_backends_match(head_request(v_a, v_b, {kv_rows, hidden}, group, {role::key_value, head_dim, {}}), v_a,
                               v_b, false);
  }
  {
    SCOPED_TRACE("v_proj rows in a recovered head order");
    expect_both_backends_match(head_request(v_a, v_b, {kv_rows, hidden}, group, {role::key_value, head_dim, {1, 0}}),
                               v_a, v_b, false);
  }
  {
    SCOPED_TRACE("o_proj columns");
    expect_both_backends_match(
        head_request(o_a, o_b, {hidden, query_columns, 1, 1}, group, {role::query, head_dim, {}}), o_a, o_b, false);
  }
  {
    SCOPED_TRACE("o_proj columns in a recovered head order");
    const axis_layout layout{role::query, head_dim, {1, 0, 1, 0, 0, 1}};
    expect_both_backends_match(head_request(o_a, o_b, {hidden, query_columns, 1, 1}, group, layout), o_a, o_b, false);
  }
}

TEST(PermutationNull, HeadDrawsOnlyBringTogetherSlicesTheGroupCan) {
  // A's and B's slices are one-hot codes of their position inside the head (exact values): T_π
  // counts the units a draw leaves at their offset inside the head. Heads moved whole keep every
  // offset (T = units); dimensions permuted inside the head move some.
  const std::uint64_t units = kv_heads * query_per_kv * head_dim;
  std::vector<double> code(units * head_dim, 0.0);
  for (std::uint64_t u = 0; u < units; ++u) code[u * head_dim + u % head_dim] = 1;
  const typed_vector a = test::encode(dtype::f32, code);
  for (const bool products : both_backends) {
    SCOPED_TRACE(backend_name(products));
    null_request whole =
        head_request(a, a, {units, head_dim}, {form::heads, 0, kv_heads, query_per_kv, 0}, {role::query, head_dim, {}});
    whole.from_products = products;
    const null_samples kept = run_null(whole, a, a);
    ASSERT_TRUE(kept.usable);
    for (const double t : kept.t) EXPECT_EQ(t, static_cast<double>(units));
    null_request inside = whole;
    inside.group.within = head_dim;
    const null_samples moved = run_null(inside, a, a);
    ASSERT_TRUE(moved.usable);
    EXPECT_LT(*std::min_element(moved.t.begin(), moved.t.end()), static_cast<double>(units));
  }
}

TEST(PermutationNull, ProductEntriesAndCostFollowTheGroup) {
  const typed_vector a = random_values(dtype::f32, 24 * 10, 0.0, 1.0, 37);
  null_request request = make_request(a, a, {24, 10}, 99, 1, false);
  EXPECT_EQ(products_needed(request.group), product_form::all_pairs);
  EXPECT_EQ(product_entries(request), 24U * 24U);
  EXPECT_EQ(request.pass_cost(), 240U);
  EXPECT_EQ(request.cost(), 100U * 240U);  // a pass per draw and one for the identity
  request.from_products = true;
  EXPECT_EQ(request.cost(), 24U * 24U * 10U + 100U * 24U);  // one pass per entry's share, then O(units) a draw
  // Heads moved whole: only slices at the same offset inside a head meet (4 cells of 6 × 6).
  request.group = {form::heads, 0, kv_heads, query_per_kv, 0};
  request.layout = {role::query, head_dim, {}};
  EXPECT_EQ(products_needed(request.group), product_form::block_traces);
  EXPECT_EQ(product_entries(request), 6U * 6U * 4U);
  // Dimensions moved inside heads too: any two slices may meet.
  request.group.within = head_dim;
  EXPECT_EQ(products_needed(request.group), product_form::all_pairs);
  EXPECT_EQ(product_entries(request), 24U * 24U);
  // Only inside heads: the pairs within each of the 6 blocks.
  request.group.kind = form::within;
  EXPECT_EQ(products_needed(request.group), product_form::within_blocks);
  EXPECT_EQ(product_entries(request), 6U * 4U * 4U);
  // Excluded units leave the pass.
  request = make_request(a, a, {24, 10}, 99, 1, false);
  request.exclude_begin = 4, request.exclude_end = 8;
  EXPECT_EQ(request.tested_units(), 20U);
  EXPECT_EQ(request.pass_cost(), 200U);
}

}  // namespace
}  // namespace lineage
