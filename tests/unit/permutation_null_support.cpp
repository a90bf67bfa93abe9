#include "permutation_null_support.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

#include "core/random_stream.hpp"

namespace lineage::null_test {

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
                      const null_reading& reading) {
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
                                std::span<const float> norm_a, std::span<const float> norm_b) {
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

}  // namespace lineage::null_test
