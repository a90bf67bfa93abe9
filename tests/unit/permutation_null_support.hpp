#pragma once
// Shared by the permutation-null tests (test_permutation_null*.cpp, test_null_figures.cpp): test
// vectors and requests, and a long-double reference of the null that regenerates the draws with
// symmetry_draws: rows (axis 0) and column blocks (axis 1, one column or a conv's kernel), vectors,
// head and within-head groups, excluded units, explicit row pairs; T and the slice directions D,
// folded with norm weights or not.
#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <vector>

#include "shard/permutation_null.hpp"
#include "shard/work_block.hpp"
#include "stats_test_support.hpp"

namespace lineage::null_test {

using test::typed_vector;
using form = symmetry_group::form;
using role = axis_layout::role;

inline constexpr bool both_backends[] = {false, true};

const char* backend_name(bool from_products);
std::span<const std::byte> bytes_of(const typed_vector& v);
typed_vector random_values(dtype type, std::size_t n, double mean, double sd, std::uint64_t seed);
// Multiples of 1/8 in [−4, 4]: every product is a multiple of 1/64 of at most 16, so the sums of
// the small tensors here are exact in single precision, and every backend and order gives one T.
typed_vector exact_values(dtype type, std::size_t n, std::uint64_t seed);
// The values of `v` decoded, encoded again as `type` (exact when `type` holds them).
typed_vector converted(const typed_vector& v, dtype type);

// A's view and its permuted axis.
struct view_shape {
  std::uint64_t rows = 1, row_length = 1;
  std::uint8_t axis = 0;
  std::uint64_t inner = 1;
};

// The plain group of the request's tested units (call again after changing the exclusion).
void use_plain_group(null_request& request);
null_request make_request(const typed_vector& a, const typed_vector& b, const view_shape& view, std::uint32_t k,
                          std::uint64_t seed, bool from_products);
null_samples run_null(const null_request& request, const typed_vector& a, const typed_vector& b,
                      const null_reading& reading = {});

// --- the long-double reference --------------------------------------------------------------------

std::vector<std::uint64_t> tested_unit_list(const null_request& request);
// Element indices of unit `unit`'s slice on one side: a row, or the unit's columns down the rows
// (or down the explicit row pairs).
std::vector<std::size_t> slice_of(const null_request& request, std::uint64_t unit, bool side_b);

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
void expect_matches(const null_samples& samples, const reference_null& reference, bool exact);
// Runs the request with both backends and checks each against the reference.
void expect_both_backends_match(null_request request, const typed_vector& a, const typed_vector& b, bool exact,
                                std::span<const float> norm_a = {}, std::span<const float> norm_b = {});
std::vector<std::uint64_t> bits_of(const std::vector<double>& values);
// Every result field of two nulls, bit for bit.
void expect_same_bits(const null_samples& x, const null_samples& y);
// Norm weights near one, as a trained RMSNorm's.
std::vector<float> norm_weights(std::size_t length, std::uint64_t seed);

}  // namespace lineage::null_test
