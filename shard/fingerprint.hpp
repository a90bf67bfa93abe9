#pragma once
// Shape-free fingerprints of tensors that cannot be aligned element by element (issue 4, point 4):
// a tensor of A and the tensor of B with the same canonical key but another shape (a pruned
// width, another hidden size). What can still be compared is what does not need an element
// correspondence: the mean and standard deviation of the elements, and, for matrices, the leading
// singular values as fractions of the Frobenius norm.
//
// Singular values are computed from FP32 rows decoded from the stored dtype (never an SVD in
// BF16): products with WᵀW in single-precision fused multiply-adds block by block, summed in FP64,
// the basis made orthonormal in FP64 (block Lanczos on WᵀW). The reduction compares the
// fingerprints of one role across depth (reduce/fingerprint_figures.hpp).
#include <cstdint>
#include <string>
#include <vector>

#include "shard/work_block.hpp"

namespace lineage {

// Singular values kept per matrix. A matrix whose smaller dimension is at most
// fingerprint_exact_width has them exactly (eigenvalues of its FP64 Gram matrix); a larger one by
// block Lanczos: fingerprint_passes blocks of eight columns (kernel_lanes), each the product of the
// last with WᵀW orthogonalised against all before (fewer once the values settle, below), and the
// Ritz values of that Krylov basis. They
// are lower bounds; on Gaussian random matrices, whose top singular values crowd together, the
// largest of the eight top ones' errors is 1.7 % (1024 × 2816) and 1.8 % (4096 × 11008) against
// NumPy's SVD, where the subspace iteration this replaced (32 columns, 7 products) erred 2.5 % and
// 4.1 %; on trained weights, with a steeper top spectrum, far less. A matrix whose floats fit
// fingerprint_held_floats is decoded once and held; a larger one is decoded again on every pass.
inline constexpr std::size_t fingerprint_singular_values = 8;
inline constexpr std::size_t fingerprint_exact_width = 64;
inline constexpr std::size_t fingerprint_passes = 8;
// Block Lanczos stops before fingerprint_passes once a pass grew none of the top values by more
// than this share of itself: trained weights, whose top singular values stand apart, settle in a
// few passes; a crowded spectrum takes every pass.
inline constexpr double fingerprint_settled = 1e-4;
inline constexpr std::uint64_t fingerprint_held_floats = std::uint64_t{1} << 26;

struct tensor_fingerprint {
  std::uint64_t elements = 0;
  double mean = 0, sd = 0;      // of the elements, FP64
  double frobenius = 0;         // √Σw²
  // σ₁ ≥ σ₂ ≥ … (at most fingerprint_singular_values) divided by the Frobenius norm; empty for
  // vectors.
  std::vector<double> spectrum;
  bool finite = true;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & elements & mean & sd & frobenius & spectrum & finite;
  }
};

// One side of a fingerprinted tensor: its first element and its shape (1-D or 2-D).
struct fingerprint_side {
  element_location first;
  std::vector<std::uint64_t> shape;
  std::string name;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & first & shape & name;
  }
};

struct fingerprint_request {
  std::int32_t layer = 0;
  std::string role;        // canonical role (both models' tensors have the key layer / role)
  fingerprint_side a, b;
  std::uint64_t seed = 0;  // of the starting basis

  [[nodiscard]] std::uint64_t cost() const noexcept;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & layer & role & a & b & seed;
  }
};

struct fingerprint_result {
  std::uint32_t request = 0;  // index into work_plan::fingerprints
  tensor_fingerprint a, b;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & request & a & b;
  }
};

class block_reader;

// The fingerprint of the tensor at `side` of `reader` (0: A, 1: B). Deterministic: the same bits on
// any rank. Throws input_error when a file is too short.
tensor_fingerprint fingerprint_tensor(block_reader& reader, int side, const fingerprint_side& tensor,
                                      std::uint64_t seed);

fingerprint_result compute_fingerprint(std::uint32_t index, const fingerprint_request& request, block_reader& reader);

}  // namespace lineage
