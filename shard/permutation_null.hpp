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

#include "shard/block_stats.hpp"
#include "shard/byte_source.hpp"
#include "shard/work_block.hpp"

namespace lineage {

struct null_request {
  std::uint32_t pair = 0;          // index of the tensor pair in the plan
  element_location a, b;           // first element of each side
  std::uint64_t rows = 0;          // permuted units: rows of a matrix, elements of a vector
  std::uint64_t row_length = 0;    // elements per unit (1 for a vector)
  std::uint32_t permutations = 0;  // K
  std::uint64_t seed = 0;          // the pair's own stream (job seed and canonical key)
  // Which units enter T. By default unit i of A meets unit i of B, all of them. After expert
  // matching, either the rows [exclude_begin, exclude_end) are left out (the block the matching
  // looked at, so that its selection does not inflate the test), or `rows_a`/`rows_b` pair the
  // rows explicitly (a router's rows in matched expert order; tensor_rows_* give each side's
  // tensor). Then the unit also sums the moments of exactly the pairs it tests.
  std::uint64_t exclude_begin = 0, exclude_end = 0;
  std::vector<std::uint32_t> rows_a, rows_b;
  std::uint64_t tensor_rows_a = 0, tensor_rows_b = 0;
  // Matrices: also the scale-invariant statistic of row directions (see null_samples::direction_*),
  // on rows folded with the norm weight that the tensor reads when `norm_pair` names that norm's
  // pair (the layer's input or post-attention norm; no_norm otherwise).
  static constexpr std::uint32_t no_norm = 0xffffffffu;
  bool directions = false;
  std::uint32_t norm_pair = no_norm;

  [[nodiscard]] bool explicit_pairs() const noexcept { return !rows_a.empty(); }
  [[nodiscard]] bool tests_subset() const noexcept { return explicit_pairs() || exclude_end > exclude_begin; }
  // Units entering T.
  [[nodiscard]] std::uint64_t tested_units() const noexcept {
    return explicit_pairs() ? rows_a.size() : rows - (exclude_end - exclude_begin);
  }
  // Elements of each side's tensor, as mapped.
  [[nodiscard]] std::uint64_t elements_a() const noexcept {
    return (explicit_pairs() ? tensor_rows_a : rows) * row_length;
  }
  [[nodiscard]] std::uint64_t elements_b() const noexcept {
    return (explicit_pairs() ? tensor_rows_b : rows) * row_length;
  }
  // Multiply-adds the null costs, for balancing ranks.
  [[nodiscard]] std::uint64_t cost() const noexcept {
    return (permutations + 1ull) * tested_units() * row_length;
  }

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & pair & a & b & rows & row_length & permutations & seed & exclude_begin & exclude_end & rows_a &
        rows_b & tensor_rows_a & tensor_rows_b & directions & norm_pair;
  }
};

struct null_samples {
  std::uint32_t pair = 0;
  bool usable = false;
  std::string reason;          // why not usable, e.g. "non-finite values"
  double observed = 0;         // T for the identity, computed exactly like the samples
  std::vector<double> t;       // T_π for the K permutations, in stream order
  double randomizer = 1;       // U in (0, 1], drawn after the permutations, for the randomized p
  // When the request tests a subset of the pairs (null_request::tests_subset): their moments,
  // summed by the block kernel row by row in order, for turning T into the other statistics.
  bool subset = false;
  pair_moments tested;
  std::uint64_t tested_units = 0;
  // Row directions (requests with `directions`): D = Σᵢ cos(âᵢ, b̂ᵢ) over the tested rows, where a
  // row is folded with its norm weight (aᵢ ∘ g_A) when the request names one. D does not change
  // when B's rows are rescaled (v against o, up against down) or a norm weight is rescaled against
  // the columns that read it, both of which leave the function unchanged; D_π under the same
  // permutations as T.
  bool directions = false;
  bool folded = false;             // rows folded with the norm weight
  double direction_observed = 0;
  std::vector<double> direction_t;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & pair & usable & reason & observed & t & randomizer & subset & tested & tested_units & directions &
        folded & direction_observed & direction_t;
  }
};

// How a null reads its pair beyond the request: the norm weights its rows are folded with for the
// direction statistic (row_length values each, B's in A's order; empty: not folded), B's
// alignment (null: B's elements are in A's order), and the bytes of floats per side it may
// decode at once (larger tensors are decoded row by row as the permutations visit them; the
// results are the same bits either way).
// Bytes of floats per side a null decodes whole when nothing bounds it (no memory budget).
inline constexpr std::uint64_t unbounded_float_limit = std::uint64_t{1} << 28;

struct null_reading {
  std::span<const float> norm_a, norm_b;
  const b_alignment* alignment_b = nullptr;
  std::uint64_t float_limit = unbounded_float_limit;
};

// `a` and `b` read the whole tensors' bytes (elements_a() and elements_b() elements; B's view
// when aligned). Deterministic: the same request gives the same bits on any rank and whatever the
// reading's limits.
null_samples compute_permutation_null(const null_request& request, byte_source& a, byte_source& b,
                                      const null_reading& reading);

// `a` and `b` are the whole tensors' bytes (elements_a() and elements_b() elements); `norm_a` and
// `norm_b` the norm weights the rows are folded with for the direction statistic (row_length
// values each, B's in A's order; empty: not folded). Deterministic: the same request gives the
// same bits on any rank.
null_samples compute_permutation_null(const null_request& request, std::span<const std::byte> a,
                                      std::span<const std::byte> b, std::span<const float> norm_a = {},
                                      std::span<const float> norm_b = {});

}  // namespace lineage
