#pragma once
// The permutation null of one tensor pair, computed where the pair's bytes are.
//
// For a matrix (rows of B permuted against A) or a vector (elements permuted), raw cosine,
// Pearson and relative L2 all depend on the permutation π only through T_π = Σᵢ⟨aᵢ, b_π(i)⟩: the
// norms, sums and element counts are the same for every π. So a null sample is one T_π, and the
// three statistics' null distributions (and their p-values, which coincide) follow on rank 0
// from the merged moments (reduce/null_figures.hpp).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "shard/work_block.hpp"

namespace lineage {

struct null_request {
  std::uint32_t pair = 0;          // index of the tensor pair in the plan
  element_location a, b;           // first element of each side
  std::uint64_t rows = 0;          // permuted units: rows of a matrix, elements of a vector
  std::uint64_t row_length = 0;    // elements per unit (1 for a vector)
  std::uint32_t permutations = 0;  // K
  std::uint64_t seed = 0;          // the pair's own stream (job seed and canonical key)

  [[nodiscard]] std::uint64_t elements() const noexcept { return rows * row_length; }
  // Multiply-adds the null costs, for balancing ranks.
  [[nodiscard]] std::uint64_t cost() const noexcept { return (permutations + 1ull) * elements(); }

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & pair & a & b & rows & row_length & permutations & seed;
  }
};

struct null_samples {
  std::uint32_t pair = 0;
  bool usable = false;
  std::string reason;          // why not usable, e.g. "non-finite values"
  double observed = 0;         // T for the identity, computed exactly like the samples
  std::vector<double> t;       // T_π for the K permutations, in stream order
  double randomizer = 1;       // U in (0, 1], drawn after the permutations, for the randomized p

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & pair & usable & reason & observed & t & randomizer;
  }
};

// `a` and `b` are the whole tensors' bytes. Deterministic: the same request gives the same bits on
// any rank.
null_samples compute_permutation_null(const null_request& request, std::span<const std::byte> a,
                                      std::span<const std::byte> b);

}  // namespace lineage
