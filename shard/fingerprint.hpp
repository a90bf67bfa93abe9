#pragma once
// Shape-free fingerprints of tensors that cannot be aligned element by element (issue 4, point 4):
// a tensor of A and the tensor of B with the same canonical key but another shape (a pruned
// width, another hidden size). What can still be compared is what does not need an element
// correspondence: the mean and standard deviation of the elements, and, for matrices, the leading
// singular values as fractions of the Frobenius norm.
//
// Singular values are computed in floating point wider than the stored dtype: rows are decoded to
// FP32, every product of a row block with the basis is accumulated in FP64, and the basis is made
// orthonormal in FP64 (subspace iteration on WᵀW; never an SVD in BF16). The reduction compares
// the fingerprints of one role across depth (reduce/fingerprint_figures.hpp).
#include <cstdint>
#include <string>
#include <vector>

#include "shard/work_block.hpp"

namespace lineage {

// Singular values kept per matrix. A matrix whose smaller dimension is at most
// fingerprint_exact_width has them exactly (eigenvalues of its FP64 Gram matrix); a larger one by
// subspace iteration: a basis of fingerprint_basis columns, fingerprint_passes products with WᵀW,
// Ritz values from the last. Ritz values are lower bounds; on Gaussian random matrices, whose top
// singular values crowd together (σ₈/σ₁₇ ≈ 1.03), they fall 1–3 % short (1024 × 2816, checked
// against numpy's SVD); on trained weights with a steeper top spectrum far less.
inline constexpr std::size_t fingerprint_singular_values = 8;
inline constexpr std::size_t fingerprint_exact_width = 512;
inline constexpr std::size_t fingerprint_basis = 32;
inline constexpr std::size_t fingerprint_passes = 6;

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
