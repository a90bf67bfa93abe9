#pragma once
// Helpers for the statistics, plan and report tests: typed test vectors, a decoder and a
// long-double reference written independently of core/dtype and the kernel, bit-level comparisons
// of kernel and moment records, scratch directories and in-memory checkpoints.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arch/architecture_map.hpp"
#include "checkpoint/checkpoint.hpp"
#include "core/dtype.hpp"
#include "plan/plan.hpp"
#include "shard/block_stats.hpp"
#include "shard/kernel.hpp"
#include "shard/work_block.hpp"

namespace lineage::test {

// One side of a block: `size()` elements of `type`, stored with a leading gap of `misalign` bytes
// so the data pointer can be deliberately unaligned.
class typed_vector {
 public:
  typed_vector() = default;
  typed_vector(dtype type, std::size_t size, std::size_t misalign = 0);

  [[nodiscard]] dtype type() const noexcept { return type_; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] const std::byte* data() const noexcept { return storage_.data() + misalign_; }
  [[nodiscard]] element_run run() const noexcept { return {data(), type_}; }
  // The raw code of element i (the low dtype_size bytes, little endian).
  [[nodiscard]] std::uint64_t code(std::size_t i) const noexcept;
  void set_code(std::size_t i, std::uint64_t code) noexcept;
  // Rounds `value` to the type (round to nearest even; F8 saturates) and stores it.
  void set_value(std::size_t i, double value) noexcept;
  // The same codes with another leading gap.
  [[nodiscard]] typed_vector with_misalign(std::size_t misalign) const;
  // Elements [first, first + count) as a vector of their own.
  [[nodiscard]] typed_vector slice(std::size_t first, std::size_t count) const;

 private:
  dtype type_ = dtype::f32;
  std::size_t size_ = 0;
  std::size_t misalign_ = 0;
  std::vector<std::byte> storage_;
};

// Encodes `values` (rounded to the type).
typed_vector encode(dtype type, std::span<const double> values);

// Independent decoder: sign, biased exponent and mantissa of each format, put together with ldexp.
// NaN codes give NaN with the code's sign; F8_E4M3 has no infinities (S.1111.111 is NaN).
double reference_decode(dtype type, std::uint64_t code) noexcept;
inline double reference_value(const typed_vector& v, std::size_t i) noexcept {
  return reference_decode(v.type(), v.code(i));
}

// The quiet NaN, +Inf and -Inf codes of a type (F8_E4M3: no infinities, the "infinities" are its
// largest finite values ±448, so tests that want non-finite values use nan_code for it).
std::uint64_t nan_code(dtype type, bool negative = false) noexcept;
std::uint64_t inf_code(dtype type, bool negative = false) noexcept;
bool has_infinity(dtype type) noexcept;

// Everything the kernel returns, computed naively in long double (two passes over the finite pairs).
struct reference_stats {
  std::uint64_t elements = 0, count = 0, nonfinite_a = 0, nonfinite_b = 0, bitwise_equal = 0;
  long double sum_a = 0, sum_b = 0;  // Σa, Σb
  long double mean_a = 0, mean_b = 0;
  long double m2_a = 0, m2_b = 0, c_ab = 0;
  long double raw_aa = 0, raw_bb = 0, raw_ab = 0, sum_dd = 0;
  double min_a = 0, max_a = 0, min_b = 0, max_b = 0;  // ±inf when a side has no finite value
};
reference_stats reference_block(const typed_vector& a, const typed_vector& b);

// Sums of magnitudes of the kernel's shifted terms, for rounding tolerances.
struct shifted_magnitudes {
  long double abs_da = 0, abs_db = 0;  // Σ|a−s|, Σ|b−t|
  long double sq_da = 0, sq_db = 0;    // Σ(a−s)², Σ(b−t)²
  long double abs_dadb = 0;            // Σ|(a−s)(b−t)|
  long double sq_d = 0;                // Σ(a−b)²
};
shifted_magnitudes magnitudes(const typed_vector& a, const typed_vector& b, double shift_a, double shift_b);

// Field-by-field bitwise comparison (memcmp of each field); the message names the fields that
// differ and both values.
::testing::AssertionResult same_bits(const kernel_sums& x, const kernel_sums& y);
::testing::AssertionResult same_bits(const pair_moments& x, const pair_moments& y);

// Relative closeness of every floating field of two moments records (counts exactly).
::testing::AssertionResult moments_close(const pair_moments& x, const pair_moments& y, double relative);

// Deterministic N(mean, sd²) draws.
std::vector<double> normal_values(std::size_t n, double mean, double sd, std::uint64_t seed);

// A fresh directory under the system temporary directory, removed with its contents.
class scratch_directory {
 public:
  explicit scratch_directory(std::string_view label = "stats");
  scratch_directory(const scratch_directory&) = delete;
  scratch_directory& operator=(const scratch_directory&) = delete;
  ~scratch_directory();
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

std::filesystem::path write_text(const std::filesystem::path& path, std::string_view text);

// In-memory checkpoints for the plan tests: tensors laid out one after another in one file.
struct tensor_spec {
  std::string name;
  std::vector<std::uint64_t> shape;
  dtype type = dtype::bf16;
};
checkpoint make_checkpoint(std::string root, std::string model_type, const std::vector<tensor_spec>& tensors,
                           const nlohmann::json& extra_config = nlohmann::json::object());

// An F32 tensor to write into a safetensors file.
struct f32_tensor {
  std::string name;
  std::vector<std::uint64_t> shape;
  std::vector<float> values;
};

// Writes `tensors` one after another into one safetensors file (file index 0 of a block_reader)
// and returns where each tensor's first element is.
std::vector<element_location> write_f32_safetensors(const std::filesystem::path& path,
                                                    const std::vector<f32_tensor>& tensors);

// The built-in architecture rules, loaded once.
const architecture_registry& embedded_registry();

// The pair of `plan` with `key`, or nullptr.
const tensor_pair* find_pair(const work_plan& plan, const tensor_key& key);

}  // namespace lineage::test
