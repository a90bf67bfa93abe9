#pragma once
// The statistics kernel: one call per block of element-aligned pairs.
//
// It is compiled once per instruction set (kernel_generic.cpp, kernel_avx2.cpp) from the same
// source, kernel_impl.hpp, and chosen at run time. Every variant performs the same IEEE operations
// on the same eight accumulator lanes in the same order (FMA is explicit, never contracted by the
// compiler), so all of them return the same bits — a rank on an AVX2 node and a rank on an older
// node agree, and the report does not depend on where a block ran.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/dtype.hpp"
#include "shard/block_stats.hpp"

namespace lineage {

// `count` elements of type `type` starting at `data` (any alignment).
struct element_run {
  const std::byte* data = nullptr;
  dtype type = dtype::f32;
};

using block_kernel = kernel_sums (*)(element_run a, element_run b, std::uint64_t count);
// ⟨x, y⟩ over `length` floats, for the permutation nulls: products and sums in single precision
// in 32 lanes (no FMA: plain multiply and add give the same bits on every instruction set), folded
// in a fixed order into double.
using row_dot_function = double (*)(const float* x, const float* y, std::size_t length);
// The rows × columns matrix of dot products ⟨a_i, b_j⟩ of two row-major float matrices with rows of
// `length`, into `out` (row-major), for similarity matrices: single-precision fused multiply-adds in
// eight lanes per dot folded into double, tiled 4 × 3; the same bits on every variant and tiling.
using dot_matrix_function = void (*)(const float* a, std::size_t rows, const float* b, std::size_t columns,
                                     std::size_t length, double* out);
// z = Wᵀ(W q) for a block of `rows` float rows of `length` (row-major) and a basis of eight columns,
// q and z `length` × kernel_lanes (row j: the columns' entries j), for the fingerprints' singular
// values: single-precision fused multiply-adds in a fixed order (kernel_gram.hpp); the same bits on
// every variant.
using gram_block_function = void (*)(const float* w, std::size_t rows, std::size_t length, const float* q, float* z);
// The cyclic nulls' running sums over `bins` bins of two half spectra x and y (interleaved real and
// imaginary parts): conj(x)·y into `total` and |x|², |y|² into `squares` (interleaved too), in
// double precision without FMA (kernel_spectra.hpp); the same bits on every variant.
using spectrum_sums_function = void (*)(const double* x, const double* y, std::size_t bins, double* total,
                                        double* squares);

struct kernel_variant {
  std::string_view name;  // "avx512", "avx2", "generic"
  block_kernel compute;
  row_dot_function row_dot;
  dot_matrix_function dot_matrix;
  gram_block_function gram_block;
  spectrum_sums_function spectrum_sums;
};

// The fastest variant this CPU supports (LINEAGE_KERNEL=generic forces the portable one).
const kernel_variant& best_kernel() noexcept;
// Every variant compiled in that this CPU can run (tests compare their bits).
const kernel_variant* runnable_kernels(std::size_t& how_many) noexcept;

kernel_sums compute_block_sums(element_run a, element_run b, std::uint64_t count);

// Elements per chunk decoded into an L1-resident buffer before summing.
inline constexpr std::size_t kernel_chunk_elements = 2048;
// Lanes of every accumulator; fixes the summation order.
inline constexpr std::size_t kernel_lanes = 8;

namespace kernel_generic {
kernel_sums compute(element_run a, element_run b, std::uint64_t count);
double row_dot(const float* x, const float* y, std::size_t length);
void dot_matrix(const float* a, std::size_t rows, const float* b, std::size_t columns, std::size_t length,
                double* out);
void gram_block(const float* w, std::size_t rows, std::size_t length, const float* q, float* z);
void spectrum_sums(const double* x, const double* y, std::size_t bins, double* total, double* squares);
}
namespace kernel_avx2 {
kernel_sums compute(element_run a, element_run b, std::uint64_t count);
double row_dot(const float* x, const float* y, std::size_t length);
void dot_matrix(const float* a, std::size_t rows, const float* b, std::size_t columns, std::size_t length,
                double* out);
void gram_block(const float* w, std::size_t rows, std::size_t length, const float* q, float* z);
void spectrum_sums(const double* x, const double* y, std::size_t bins, double* total, double* squares);
}

namespace kernel_avx512 {
void gram_block(const float* w, std::size_t rows, std::size_t length, const float* q, float* z);
}

// best_kernel().dot_matrix.
void dot_product_matrix(const float* a, std::size_t rows, const float* b, std::size_t columns, std::size_t length,
                        double* out);

}  // namespace lineage
