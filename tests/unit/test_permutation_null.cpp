// The permutation null (shard/permutation_null and its paths in null_rows, null_columns and
// null_products) and the figures drawn from it (reduce/null_figures).
//
// The samples are checked against a long-double recomputation that regenerates the draws with
// symmetry_draws: rows (axis 0) and column blocks (axis 1, one column or a conv's kernel), vectors,
// head and within-head groups, excluded units, explicit row pairs; T and the slice directions D,
// folded with norm weights or not; for both backends (every draw a pass, or from cross products).
// Then what must hold whatever the arithmetic: the same bits whether a side is decoded whole or
// row by row and whether B is read in A's order or through an alignment, determinism, the same
// draws for every tensor of a unit, unusable input and planning errors, the cost the plan balances,
// uniform p-values for unrelated tensors, and the tests null_figures derives.
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
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using test::typed_vector;
using form = symmetry_group::form;
using role = axis_layout::role;

constexpr bool both_backends[] = {false, true};

const char* backend_name(bool from_products) { return from_products ? "from products" : "direct"; }

std::span<const std::byte> bytes_of(const typed_vector& v) { return {v.data(), v.size() * dtype_size(v.type())}; }

typed_vector random_values(dtype type, std::size_t n, double mean, double sd, std::uint64_t seed) {
  return test::encode(type, test::normal_values(n, mean, sd, seed));
}

// Multiples of 1/8 in [−4, 4]: every product is a multiple of 1/64 of at most 16, so the sums of
// the small tensors here are exact in single precision, and every backend and order gives one T.
typed_vector exact_values(dtype type, std::size_t n, std::uint64_t seed) {
  random_stream stream(seed, "test", "exact values");
  std::vector<double> values(n);
  for (auto& v : values) v = (static_cast<double>(stream.below(65)) - 32) / 8;
  return test::encode(type, values);
}

// The values of `v` decoded, encoded again as `type` (exact when `type` holds them).
typed_vector converted(const typed_vector& v, dtype type) {
  std::vector<double> values(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) values[i] = test::reference_value(v, i);
  return test::encode(type, values);
}

// A's view and its permuted axis.
struct view_shape {
  std::uint64_t rows = 1, row_length = 1;
  std::uint8_t axis = 0;
  std::uint64_t inner = 1;
};

// The plain group of the request's tested units (call again after changing the exclusion).
void use_plain_group(null_request& request) {
  request.group = {form::plain, request.tested_units(), 0, 1, 0};
  request.layout = {};
}

null_request make_request(const typed_vector& a, const typed_vector& b, const view_shape& view, std::uint32_t k,
                          std::uint64_t seed, bool from_products) {
  null_request request;
  request.pair = 4;
  request.a.type = a.type();
  request.b.type = b.type();
  request.rows = view.rows;
  request.row_length = view.row_length;
  request.axis = view.axis;
  request.inner = view.inner;
  request.permutations = k;
  request.seed = seed;
  request.from_products = from_products;
  use_plain_group(request);
  return request;
}

null_samples run_null(const null_request& request, const typed_vector& a, const typed_vector& b,
                      const null_reading& reading = {}) {
  byte_source source_a(bytes_of(a)), source_b(bytes_of(b));
  return compute_permutation_null(request, source_a, source_b, reading);
}

// --- the long-double reference --------------------------------------------------------------------

std::vector<std::uint64_t> tested_unit_list(const null_request& request) {
  std::vector<std::uint64_t> units;
  for (std::uint64_t u = 0; u < request.units(); ++u)
    if (u < request.exclude_begin || u >= request.exclude_end) units.push_back(u);
  return units;
}

// Element indices of unit `unit`'s slice on one side: a row, or the unit's columns down the rows
// (or down the explicit row pairs).
std::vector<std::size_t> slice_of(const null_request& request, std::uint64_t unit, bool side_b) {
  std::vector<std::size_t> at;
  if (request.axis == 0) {
    for (std::uint64_t c = 0; c < request.row_length; ++c) at.push_back(unit * request.row_length + c);
    return at;
  }
  for (std::uint64_t r = 0; r < request.outer_rows(); ++r) {
    const std::uint64_t row = !request.explicit_pairs() ? r : side_b ? request.rows_b[r] : request.rows_a[r];
    for (std::uint64_t t = 0; t < request.inner; ++t) at.push_back(row * request.row_length + unit * request.inner + t);
  }
  return at;
}

// One draw's statistics: T, Σ|a||b| (the scale of T's rounding), D = Σ cos(Â, B̂), and the scale of
// D's rounding Σ (Σ|â||b̂|) / (‖Â‖‖B̂‖).
struct reference_sample {
  long double t = 0, magnitude = 0, d = 0, d_magnitude = 0;
};

// Both sides' tested slices decoded by the independent decoder, the draws regenerated from the
// request's group and seed, and the randomizer from its own stream.
class reference_null {
 public:
  reference_null(const null_request& request, const typed_vector& a, const typed_vector& b,
                 std::span<const float> norm_a = {}, std::span<const float> norm_b = {})
      : folded_(request.axis == 0 && norm_a.size() == request.row_length && norm_b.size() == request.row_length) {
    for (const std::uint64_t unit : tested_unit_list(request)) {
      a_.push_back(slice(a, slice_of(request, unit, false), norm_a));
      b_.push_back(slice(b, slice_of(request, unit, true), norm_b));
    }
    symmetry_draws draws(request.group, request.seed);
    draws_.assign(request.permutations, std::vector<std::uint32_t>(a_.size()));
    for (auto& perm : draws_) draws.next(request.layout, perm);
    randomizer_ = 1 - random_stream(request.seed, "symmetry null", "randomizer").uniform();
  }

  // Tested unit i of A against unit perm[i] of B (nullptr: the identity).
  [[nodiscard]] reference_sample sample(const std::uint32_t* perm) const {
    reference_sample out;
    for (std::size_t i = 0; i < a_.size(); ++i) {
      const slice_values &x = a_[i], &y = b_[perm ? perm[i] : i];
      long double folded_dot = 0, folded_magnitude = 0;
      for (std::size_t c = 0; c < x.raw.size(); ++c) {
        out.t += x.raw[c] * y.raw[c];
        out.magnitude += std::fabs(x.raw[c] * y.raw[c]);
        folded_dot += x.folded[c] * y.folded[c];
        folded_magnitude += std::fabs(x.folded[c] * y.folded[c]);
      }
      const long double scale = x.norm * y.norm;
      if (scale > 0) {
        out.d += folded_dot / scale;
        out.d_magnitude += folded_magnitude / scale;
      }
    }
    return out;
  }
  [[nodiscard]] const std::vector<std::vector<std::uint32_t>>& draws() const noexcept { return draws_; }
  [[nodiscard]] double randomizer() const noexcept { return randomizer_; }
  [[nodiscard]] bool folded() const noexcept { return folded_; }
  [[nodiscard]] std::size_t units() const noexcept { return a_.size(); }

 private:
  struct slice_values {
    std::vector<long double> raw, folded;  // folded: times the norm weight of each element (axis 0)
    long double norm = 0;                  // of the folded slice
  };

  [[nodiscard]] slice_values slice(const typed_vector& v, const std::vector<std::size_t>& at,
                                   std::span<const float> norm) const {
    slice_values out;
    for (std::size_t c = 0; c < at.size(); ++c) {
      const long double value = test::reference_value(v, at[c]);
      out.raw.push_back(value);
      out.folded.push_back(folded_ ? value * norm[c] : value);
      out.norm += out.folded.back() * out.folded.back();
    }
    out.norm = std::sqrt(out.norm);
    return out;
  }

  bool folded_;
  std::vector<slice_values> a_, b_;
  std::vector<std::vector<std::uint32_t>> draws_;
  double randomizer_ = 0;
};

// The engine's samples against the reference: T equal when `exact`, otherwise within 1e-6 of
// Σ|a||b| (single-precision partial sums); D within 1e-6 of its own scale.
void expect_matches(const null_samples& samples, const reference_null& reference, bool exact) {
  ASSERT_TRUE(samples.usable) << samples.reason;
  EXPECT_EQ(samples.pair, 4U);
  EXPECT_EQ(samples.reason, "");
  EXPECT_EQ(samples.tested_units, reference.units());
  EXPECT_EQ(samples.randomizer, reference.randomizer());
  EXPECT_EQ(samples.folded, reference.folded());
  const auto& draws = reference.draws();
  ASSERT_EQ(samples.t.size(), draws.size());
  ASSERT_EQ(samples.direction_t.size(), samples.directions ? draws.size() : 0);
  const auto check = [&](double t, double d, const std::uint32_t* perm) {
    const reference_sample expected = reference.sample(perm);
    if (exact) {
      EXPECT_EQ(t, static_cast<double>(expected.t));
    } else {
      EXPECT_NEAR(t, static_cast<double>(expected.t), static_cast<double>(1e-6L * expected.magnitude));
    }
    if (samples.directions) {
      EXPECT_NEAR(d, static_cast<double>(expected.d), static_cast<double>(1e-6L * expected.d_magnitude + 1e-12L));
    }
  };
  {
    SCOPED_TRACE("observed");
    check(samples.observed, samples.direction_observed, nullptr);
  }
  for (std::size_t k = 0; k < draws.size(); ++k) {
    SCOPED_TRACE(testing::Message() << "draw " << k);
    check(samples.t[k], samples.directions ? samples.direction_t[k] : 0.0, draws[k].data());
  }
  // The draws differ, so the samples do.
  EXPECT_NE(*std::min_element(samples.t.begin(), samples.t.end()),
            *std::max_element(samples.t.begin(), samples.t.end()));
}

// Runs the request with both backends and checks each against the reference.
void expect_both_backends_match(null_request request, const typed_vector& a, const typed_vector& b, bool exact,
                                std::span<const float> norm_a = {}, std::span<const float> norm_b = {}) {
  const reference_null reference(request, a, b, norm_a, norm_b);
  for (const bool products : both_backends) {
    SCOPED_TRACE(backend_name(products));
    request.from_products = products;
    expect_matches(run_null(request, a, b, {.norm_a = norm_a, .norm_b = norm_b}), reference, exact);
  }
}

std::vector<std::uint64_t> bits_of(const std::vector<double>& values) {
  std::vector<std::uint64_t> bits;
  for (const double v : values) bits.push_back(std::bit_cast<std::uint64_t>(v));
  return bits;
}

// Every result field of two nulls, bit for bit.
void expect_same_bits(const null_samples& x, const null_samples& y) {
  EXPECT_EQ(x.usable, y.usable);
  EXPECT_EQ(x.reason, y.reason);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(x.observed), std::bit_cast<std::uint64_t>(y.observed));
  EXPECT_EQ(bits_of(x.t), bits_of(y.t));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(x.randomizer), std::bit_cast<std::uint64_t>(y.randomizer));
  EXPECT_EQ(x.directions, y.directions);
  EXPECT_EQ(x.folded, y.folded);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(x.direction_observed), std::bit_cast<std::uint64_t>(y.direction_observed));
  EXPECT_EQ(bits_of(x.direction_t), bits_of(y.direction_t));
  EXPECT_EQ(x.subset, y.subset);
  EXPECT_EQ(x.tested_units, y.tested_units);
  if (x.subset && y.subset) {
    EXPECT_TRUE(test::same_bits(x.tested, y.tested));
  }
}

// Norm weights near one, as a trained RMSNorm's.
std::vector<float> norm_weights(std::size_t length, std::uint64_t seed) {
  random_stream stream(seed, "test", "norm weights");
  std::vector<float> weights(length);
  for (auto& w : weights) w = static_cast<float>(std::exp(0.3 * stream.normal()));
  return weights;
}

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

// --- calibration ----------------------------------------------------------------------------------

// The p-values of `pairs` unrelated pairs: matrices (rows, columns, conv column blocks in turn)
// tested on D, or vectors tested on T (every other one like a norm weight: mean 1, sd 0.1, so
// that raw cosine is near 1).
std::vector<double> unrelated_p_values(bool matrices, bool products, int pairs, bool norm_like_only) {
  const view_shape matrix_views[] = {{8, 12}, {6, 10, 1, 1}, {4, 18, 1, 3}};
  std::vector<double> p_values;
  for (int i = 0; i < pairs; ++i) {
    const bool norm_like = norm_like_only || i % 2 == 1;
    const view_shape view = matrices ? matrix_views[i % 3] : view_shape{1, 64, 1, 1};
    const std::size_t n = view.rows * view.row_length;
    const double mean = norm_like && !matrices ? 1.0 : 0.0, sd = norm_like && !matrices ? 0.1 : 1.0;
    const typed_vector a = random_values(dtype::f32, n, mean, sd, 1000 + 2 * i);
    const typed_vector b = random_values(dtype::f32, n, mean, sd, 1001 + 2 * i);
    const null_samples samples = run_null(make_request(a, b, view, 199, 77 + i, products), a, b);
    const pair_moments moments = pair_moments::from_block(compute_block_sums(a.run(), b.run(), n));
    const null_figures figures =
        derive_null_figures(samples, moments, derive_similarity(moments).pearson, 0.01, "units");
    EXPECT_TRUE(figures.available);
    EXPECT_EQ(figures.test, matrices ? "slice directions" : "products");
    p_values.push_back(figures.p_value);
  }
  return p_values;
}

TEST(PermutationNullCalibration, PValuesOfUnrelatedTensorsAreUniform) {
  for (const bool products : both_backends) {
    for (const bool matrices : {true, false}) {
      SCOPED_TRACE(testing::Message() << backend_name(products) << (matrices ? ", matrices" : ", vectors"));
      const std::vector<double> p_values = unrelated_p_values(matrices, products, 300, false);
      double total = 0;
      int small = 0;
      for (const double p : p_values) total += p, small += p <= 0.05;
      EXPECT_NEAR(total / 300, 0.5, 0.05);
      EXPECT_GE(small, 0.02 * 300);
      EXPECT_LE(small, 0.09 * 300);
      EXPECT_GT(kolmogorov_smirnov_uniform(p_values).p, 0.001);
    }
    // Only norm-like vectors (raw cosine ≈ 0.99 for every pair).
    SCOPED_TRACE(testing::Message() << backend_name(products) << ", norm-like vectors");
    EXPECT_GT(kolmogorov_smirnov_uniform(unrelated_p_values(false, products, 300, true)).p, 0.001);
  }
}

// --- null_figures ---------------------------------------------------------------------------------

// A related pair (B = A + noise) and its figures.
struct figures_case {
  typed_vector a, b;
  pair_moments moments;
  null_samples samples;
  null_figures figures;
};

figures_case figures_for(const view_shape& view, double mean, std::uint64_t seed, std::uint32_t k = 99) {
  figures_case c;
  const std::size_t n = view.rows * view.row_length;
  c.a = random_values(dtype::f32, n, mean, 0.5, seed);
  std::vector<double> values = test::normal_values(n, 0.0, 1.0, seed + 1);
  for (std::size_t i = 0; i < n; ++i) values[i] += test::reference_value(c.a, i);
  c.b = test::encode(dtype::f32, values);
  c.moments = pair_moments::from_block(compute_block_sums(c.a.run(), c.b.run(), n));
  c.samples = run_null(make_request(c.a, c.b, view, k, seed, false), c.a, c.b);
  c.figures = derive_null_figures(c.samples, c.moments, derive_similarity(c.moments).pearson, 0.01, "rows (neuron)");
  return c;
}

TEST(PermutationNullFigures, TestSumCountsTiesAndNeverGoesBelowTheFloor) {
  const std::vector<double> t = {1, 2, 2, 3, 0};  // K = 5, mean 1.6, sd √1.3
  // Observed 2: one draw above, two equal. Conservative (1 + 3) / 6; randomized (1 + U·3) / 6.
  const sum_test tied = test_sum(2, t, 0.25);
  EXPECT_DOUBLE_EQ(tied.p_permutation, 4.0 / 6);
  EXPECT_DOUBLE_EQ(tied.p_value, (1 + 0.25 * 3) / 6);
  EXPECT_DOUBLE_EQ(tied.p_floor, 1.0 / 6);
  EXPECT_DOUBLE_EQ(tied.log10_p_value, std::log10(tied.p_value));
  EXPECT_NEAR(tied.z, (2 - 1.6) / std::sqrt(1.3), 1e-12);
  EXPECT_FALSE(tied.beyond_all);
  EXPECT_DOUBLE_EQ(test_sum(2, t, 1.0).p_value, 4.0 / 6);  // U = 1: the conservative p
  // Equal to the largest draw: not beyond all; the randomized p may go down to the floor, no lower.
  const sum_test at_max = test_sum(3, t, 0.5);
  EXPECT_FALSE(at_max.beyond_all);
  EXPECT_DOUBLE_EQ(at_max.p_permutation, 2.0 / 6);
  EXPECT_DOUBLE_EQ(at_max.p_value, 0.5 * 2 / 6);
  EXPECT_DOUBLE_EQ(test_sum(3, t, 0.1).p_value, 1.0 / 6);
  // Below every draw.
  const sum_test below = test_sum(-5, t, 0.5);
  EXPECT_DOUBLE_EQ(below.p_permutation, 1.0);
  EXPECT_DOUBLE_EQ(below.p_value, 5.5 / 6);
  // Beyond every draw, however far and whatever U: the floor, no extrapolated tail.
  for (const double observed : {3.5, 10.0, 1e6})
    for (const double u : {1e-9, 0.5, 1.0}) {
      const sum_test beyond = test_sum(observed, t, u);
      EXPECT_TRUE(beyond.beyond_all);
      EXPECT_DOUBLE_EQ(beyond.p_permutation, 1.0 / 6);
      EXPECT_DOUBLE_EQ(beyond.p_value, 1.0 / 6);
      EXPECT_NEAR(beyond.z, (observed - 1.6) / std::sqrt(1.3), 1e-9 * observed);
    }
  // All draws equal (sd 0): no z.
  const sum_test flat = test_sum(10, {1, 1, 1}, 0.5);
  EXPECT_TRUE(flat.beyond_all);
  EXPECT_EQ(flat.z, 0);
  EXPECT_DOUBLE_EQ(flat.p_value, 0.25);
}

TEST(PermutationNullFigures, RandomizedPIsBetweenTheFloorAndTheConservativeP) {
  random_stream stream(3, "test", "test_sum");
  std::vector<double> t(49);
  for (int trial = 0; trial < 200; ++trial) {
    for (auto& v : t) v = std::round(4 * stream.normal());  // ties
    const double observed = std::round(4 * stream.normal()), u = 1 - stream.uniform();
    const sum_test test = test_sum(observed, t, u);
    EXPECT_GE(test.p_value, test.p_floor);
    EXPECT_LE(test.p_value, test.p_permutation);
    EXPECT_DOUBLE_EQ(test.p_floor, 1.0 / 50);
  }
}

TEST(PermutationNullFigures, MatricesAreTestedOnSliceDirections) {
  const figures_case c = figures_for({40, 12}, 0.7, 21);
  const null_figures& f = c.figures;
  ASSERT_TRUE(f.available);
  EXPECT_EQ(f.unit, "rows (neuron)");
  EXPECT_EQ(f.test, "slice directions");
  EXPECT_TRUE(f.directions);
  EXPECT_FALSE(f.folded);
  EXPECT_EQ(f.permutations, 99U);
  EXPECT_DOUBLE_EQ(f.p_floor, 1.0 / 100);
  EXPECT_DOUBLE_EQ(f.direction_cosine, c.samples.direction_observed / 40);
  ASSERT_EQ(f.direction_samples.size(), 99U);
  for (std::size_t k = 0; k < 99; ++k) EXPECT_DOUBLE_EQ(f.direction_samples[k], c.samples.direction_t[k] / 40);
  const sum_test on_d = test_sum(c.samples.direction_observed, c.samples.direction_t, c.samples.randomizer);
  const sum_test on_t = test_sum(c.samples.observed, c.samples.t, c.samples.randomizer);
  EXPECT_EQ(f.p_value, on_d.p_value);
  EXPECT_EQ(f.direction_p, on_d.p_value);
  EXPECT_EQ(f.z, on_d.z);
  EXPECT_EQ(f.direction_z, on_d.z);
  EXPECT_EQ(f.products_p_value, on_t.p_value);
  EXPECT_EQ(f.products_z, on_t.z);
  // Related: beyond every draw, p at the floor and no lower.
  EXPECT_TRUE(f.beyond_all);
  EXPECT_GT(f.z, 5);
  EXPECT_DOUBLE_EQ(f.p_permutation, 1.0 / 100);
  EXPECT_DOUBLE_EQ(f.p_value, 1.0 / 100);
  EXPECT_NEAR(f.log10_p_value, -2, 1e-12);
  // More draws, a lower floor.
  const figures_case more = figures_for({40, 12}, 0.7, 21, 999);
  EXPECT_DOUBLE_EQ(more.figures.p_value, 1.0 / 1000);
}

TEST(PermutationNullFigures, VectorsAreTestedOnProducts) {
  const figures_case c = figures_for({1, 300, 1, 1}, 1.0, 41);
  const null_figures& f = c.figures;
  ASSERT_TRUE(f.available);
  EXPECT_EQ(f.test, "products");
  EXPECT_FALSE(f.directions);
  const sum_test on_t = test_sum(c.samples.observed, c.samples.t, c.samples.randomizer);
  EXPECT_EQ(f.p_value, on_t.p_value);
  EXPECT_EQ(f.p_permutation, on_t.p_permutation);
  EXPECT_EQ(f.z, on_t.z);
  EXPECT_DOUBLE_EQ(f.p_floor, 1.0 / 100);
  EXPECT_TRUE(f.beyond_all);
  EXPECT_DOUBLE_EQ(f.p_value, 1.0 / 100);
}

TEST(PermutationNullFigures, StatisticSamplesAreTheMonotoneImagesOfT) {
  const figures_case c = figures_for({40, 12}, 0.7, 21);
  const null_figures& f = c.figures;
  ASSERT_EQ(f.cosine_samples.size(), 99U);
  const pair_moments& m = c.moments;
  const double n = static_cast<double>(m.count);
  for (std::size_t k = 0; k < 99; ++k) {
    const double t = c.samples.t[k];
    EXPECT_NEAR(f.cosine_samples[k], t / std::sqrt(m.raw_aa * m.raw_bb), 1e-12);
    EXPECT_NEAR(f.pearson_samples[k], (t - n * m.mean_a * m.mean_b) / std::sqrt(m.m2_a * m.m2_b), 1e-12);
    EXPECT_NEAR(f.rel_l2_samples[k], std::sqrt(m.raw_aa + m.raw_bb - 2 * t) / std::sqrt(m.raw_aa), 1e-12);
    for (std::size_t j = 0; j < k; ++j)
      if (c.samples.t[j] < t) {
        EXPECT_LT(f.cosine_samples[j], f.cosine_samples[k]);
        EXPECT_LT(f.pearson_samples[j], f.pearson_samples[k]);
        EXPECT_GT(f.rel_l2_samples[j], f.rel_l2_samples[k]);
      }
  }
  // T of the identity gives the pair's own figures (up to single-precision partial sums).
  const similarity s = derive_similarity(m);
  EXPECT_NEAR(c.samples.observed / std::sqrt(m.raw_aa * m.raw_bb), s.cosine, 1e-6);
  EXPECT_NEAR((c.samples.observed - n * m.mean_a * m.mean_b) / std::sqrt(m.m2_a * m.m2_b), s.pearson, 1e-6);
  std::vector<double> sorted = f.cosine_samples;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(f.cosine.min, sorted.front());
  EXPECT_EQ(f.cosine.max, sorted.back());
  EXPECT_EQ(f.cosine.q50, sorted[49]);
  EXPECT_LE(f.cosine.q01, f.cosine.q50);
  EXPECT_LE(f.cosine.q50, f.cosine.q99);
}

TEST(PermutationNullFigures, ClosedFormIsRootNTimesPearson) {
  const figures_case c = figures_for({1, 300, 1, 1}, 1.0, 41);
  const null_figures& f = c.figures;
  const double n = static_cast<double>(c.moments.count);
  const double r = derive_similarity(c.moments).pearson;
  EXPECT_EQ(f.closed_z, std::sqrt(n) * r);
  EXPECT_EQ(f.closed_p, normal_upper_tail(f.closed_z));
  EXPECT_NEAR(f.null_sd_ratio, f.pearson.sd * std::sqrt(n), 1e-15);
  EXPECT_NEAR(f.null_sd_ratio, 1.0, 0.25);  // independent elements: Pearson's null sd ≈ 1/√n
  EXPECT_FALSE(f.closed_form_disagrees);
  // A Pearson the closed form calls significant while the permutation null does not.
  null_samples unremarkable = c.samples;
  std::vector<double> sorted = c.samples.t;
  std::sort(sorted.begin(), sorted.end());
  unremarkable.observed = sorted[sorted.size() / 2];
  const null_figures d = derive_null_figures(unremarkable, c.moments, 0.3, 0.01, "elements");
  EXPECT_LT(d.closed_p, 0.01);
  EXPECT_GT(d.p_value, 0.01);
  EXPECT_TRUE(d.closed_form_disagrees);
}

TEST(PermutationNullFigures, SubsetFiguresAreOfTheTestedElements) {
  const typed_vector a = random_values(dtype::f32, 10 * 9, 0.0, 1.0, 51);
  const typed_vector b = random_values(dtype::f32, 10 * 9, 0.0, 1.0, 52);
  null_request request = make_request(a, b, {10, 9}, 49, 17, false);
  request.exclude_begin = 2, request.exclude_end = 5;
  use_plain_group(request);
  const null_samples samples = run_null(request, a, b);
  const pair_moments all = pair_moments::from_block(compute_block_sums(a.run(), b.run(), a.size()));
  const null_figures f = derive_null_figures(samples, all, derive_similarity(all).pearson, 0.01, "rows");
  ASSERT_TRUE(f.available);
  EXPECT_TRUE(f.subset);
  EXPECT_EQ(f.tested_units, 7U);
  const similarity tested = derive_similarity(samples.tested);
  EXPECT_EQ(f.tested_cosine, tested.cosine);
  EXPECT_EQ(f.tested_pearson, tested.pearson);
  EXPECT_EQ(f.closed_z, std::sqrt(63.0) * tested.pearson);
  EXPECT_DOUBLE_EQ(f.direction_cosine, samples.direction_observed / 7);
  const double norm_product = std::sqrt(samples.tested.raw_aa * samples.tested.raw_bb);
  EXPECT_DOUBLE_EQ(f.cosine_samples.front(), samples.t.front() / norm_product);
}

TEST(PermutationNullFigures, UnusableSamplesKeepTheirReasonAndTheClosedForm) {
  const figures_case c = figures_for({1, 50, 1, 1}, 0.0, 51);
  null_samples unusable;
  unusable.reason = "non-finite values";
  const double r = derive_similarity(c.moments).pearson;
  const null_figures f = derive_null_figures(unusable, c.moments, r, 0.01, "elements");
  EXPECT_FALSE(f.available);
  EXPECT_EQ(f.reason, "non-finite values");
  EXPECT_EQ(f.p_value, 1);
  EXPECT_TRUE(f.cosine_samples.empty());
  EXPECT_EQ(f.closed_z, std::sqrt(50.0) * r);
  EXPECT_FALSE(f.closed_form_disagrees);
  null_samples none;
  none.usable = true;
  const null_figures empty = derive_null_figures(none, c.moments, r, 0.01, "rows");
  EXPECT_FALSE(empty.available);
  EXPECT_EQ(empty.reason, "no permutations drawn");
  EXPECT_EQ(empty.unit, "rows");
}

}  // namespace
}  // namespace lineage
