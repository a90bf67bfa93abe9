#pragma once
// The null distribution of one tensor pair under its unit's symmetry group, computed where the
// pair's bytes are.
//
// The pair is A's view as rows × row_length (a vector is one row), with B read in A's geometry
// (through the plan's alignment, if any). One axis is permuted: its units are the rows (`axis` 0:
// a unit is a row), or blocks of `inner` consecutive columns (`axis` 1: unit i of every row). For a
// permutation π drawn from the unit's group (shard/symmetry_draw.hpp), raw cosine, Pearson and
// relative L2 depend on π only through T_π = Σᵢ⟨Aᵢ, B_π(i)⟩ over the units' slices, and the
// scale-free statistic of slice directions through D_π = Σᵢ cos(Âᵢ, B̂_π(i)). A null sample is
// one (T_π, D_π); rank 0 turns them into the test (reduce/null_figures.hpp, reduce/unit_figures.hpp).
//
// Two ways compute the same samples: directly (every draw a pass over the pair), or from the cross
// products of the slices the group can bring together (one pass, then O(units) per draw), which the
// plan picks when it is cheaper; the latter lets a unit take many draws.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "shard/block_stats.hpp"
#include "shard/byte_source.hpp"
#include "shard/symmetry_draw.hpp"
#include "shard/work_block.hpp"

namespace lineage {

struct null_request {
  std::uint32_t pair = 0;          // index of the tensor pair in the plan
  element_location a, b;           // first element of each side
  std::uint64_t rows = 0;          // A's view: rows × row_length (a vector: 1 × n)
  std::uint64_t row_length = 0;
  std::uint8_t axis = 0;           // 0: units are rows; 1: units are column blocks of `inner`
  std::uint64_t inner = 1;         // axis 1: columns per unit (row_length = units × inner)
  // Units left out of the test and of the permutations (plain groups only): the rows or column
  // blocks [exclude_begin, exclude_end) a matching looked at, so that its selection does not
  // inflate the test. Then the null also sums the moments of exactly the elements it tests.
  std::uint64_t exclude_begin = 0, exclude_end = 0;
  // Axis 1 only: explicit row pairs (an embedding's rows of shared tokens): row rows_a[k] of A
  // meets row rows_b[k] of B's view (tensor_rows_* rows each); empty: row r meets row r.
  std::vector<std::uint32_t> rows_a, rows_b;
  std::uint64_t tensor_rows_a = 0, tensor_rows_b = 0;
  std::uint32_t permutations = 0;  // K, the unit's
  std::uint64_t seed = 0;          // the unit's stream: every tensor of a unit draws the same elements
  symmetry_group group;            // the unit's group
  axis_layout layout;              // where this tensor's permuted axis sits in it
  bool from_products = false;      // computed from the slices' cross products (else directly)
  // B turned by the plan's hidden rotation R (B's dimensions by A's) before anything else: 1 when the
  // residual runs along B's columns (B·R, rows first folded with B's norm when one is read), 2 when
  // along its rows (Rᵀ·B). The null then also sums the pair's moments (there are no blocks).
  std::uint8_t rotate = 0;
  std::uint64_t rotated_rows_b = 0, rotated_row_length_b = 0;  // B's own geometry when rotate != 0
  // Axis 0 matrices: slices folded with the norm weight they read (`norm_pair`, the layer's input or
  // post-attention norm) for the direction statistic.
  static constexpr std::uint32_t no_norm = 0xffffffffu;
  std::uint32_t norm_pair = no_norm;

  [[nodiscard]] bool explicit_pairs() const noexcept { return !rows_a.empty(); }
  [[nodiscard]] std::uint64_t units() const noexcept {
    return axis == 0 ? rows : (inner == 0 ? 0 : row_length / inner);
  }
  [[nodiscard]] bool tests_subset() const noexcept { return exclude_end > exclude_begin; }
  // Units entering T.
  [[nodiscard]] std::uint64_t tested_units() const noexcept { return units() - (exclude_end - exclude_begin); }
  // Rows each slice runs over (axis 1).
  [[nodiscard]] std::uint64_t outer_rows() const noexcept { return explicit_pairs() ? rows_a.size() : rows; }
  // Elements per unit slice.
  [[nodiscard]] std::uint64_t slice_elements() const noexcept { return axis == 0 ? row_length : outer_rows() * inner; }
  // Elements of each side's tensor, as mapped.
  [[nodiscard]] std::uint64_t elements_a() const noexcept {
    return (explicit_pairs() ? tensor_rows_a : rows) * row_length;
  }
  [[nodiscard]] std::uint64_t elements_b() const noexcept {
    if (rotate != 0) return rotated_rows_b * rotated_row_length_b;
    return (explicit_pairs() ? tensor_rows_b : rows) * row_length;
  }
  // Multiply-adds of one pass over the tested elements.
  [[nodiscard]] std::uint64_t pass_cost() const noexcept { return tested_units() * slice_elements(); }
  // Multiply-adds the null costs, for balancing ranks.
  [[nodiscard]] std::uint64_t cost() const noexcept;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & pair & a & b & rows & row_length & axis & inner & exclude_begin & exclude_end & rows_a & rows_b &
        tensor_rows_a & tensor_rows_b & permutations & seed & group & layout & from_products & rotate &
        rotated_rows_b & rotated_row_length_b & norm_pair;
  }
};

// The cross products a null from products needs for its group: all pairs of units, the traces of
// pairs of head blocks (heads moved whole), or the pairs inside each block (dimensions moved
// inside their head); and how many entries that is.
enum class product_form : std::uint8_t { all_pairs, block_traces, within_blocks };
[[nodiscard]] product_form products_needed(const symmetry_group& group) noexcept;
[[nodiscard]] std::uint64_t product_entries(const null_request& request) noexcept;

struct null_samples {
  std::uint32_t pair = 0;
  bool usable = false;
  std::string reason;          // why not usable, e.g. "non-finite values"
  double observed = 0;         // T for the identity, computed exactly like the samples
  std::vector<double> t;       // T_π for the K draws, in draw order
  double randomizer = 1;       // U in (0, 1], for the tensor's own randomized p
  // When the request tests a subset (null_request::tests_subset): the moments of the tested
  // elements, for turning T into the other statistics.
  bool subset = false;
  pair_moments tested;
  std::uint64_t tested_units = 0;
  // Matrices: D = Σᵢ cos(Âᵢ, B̂ᵢ) over the tested slices (rows folded with their norm weight when
  // the request names one), which does not change when slices are rescaled (a norm against the
  // columns that read it, v against o, up against down); D_π under the same draws as T.
  bool directions = false;
  bool folded = false;
  double direction_observed = 0;
  std::vector<double> direction_t;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & pair & usable & reason & observed & t & randomizer & subset & tested & tested_units & directions &
        folded & direction_observed & direction_t;
  }
};

// Bytes a cyclic null's batch of lines and their spectra take at most (both statistics, both
// sides): a batch that stays in a core's L2 cache while it is filled, transformed and summed; the
// large one for lines across the rows (axis 0), since each batch reads a few values of every row,
// in σ's order (shard/null_cyclic.cpp).
inline constexpr std::uint64_t cyclic_batch_bytes = std::uint64_t{2} << 20;
inline constexpr std::uint64_t cyclic_batch_bytes_rows = std::uint64_t{32} << 20;

// Bytes of floats per side a null decodes whole when nothing bounds it (no memory budget).
inline constexpr std::uint64_t unbounded_float_limit = std::uint64_t{1} << 28;

// How a null reads its pair beyond the request: the norm weights its rows are folded with for the
// direction statistic (row_length values each, B's in A's order; empty: not folded), B's
// alignment (null: B's elements are in A's order), and the bytes of floats per side it may decode
// at once (larger tensors are decoded row by row; the results are the same bits either way).
struct null_reading {
  std::span<const float> norm_a, norm_b;
  const b_alignment* alignment_b = nullptr;
  std::uint64_t float_limit = unbounded_float_limit;
  // request.rotate: the map (B's width × A's width) and B's norm weight in B's own order (may be empty).
  std::span<const float> rotation, norm_b_own;
};

// `a` and `b` read the whole tensors' bytes (elements_a() and elements_b() elements; B's view
// when aligned). Deterministic: the same request gives the same bits on any rank and whatever the
// reading's limits.
null_samples compute_permutation_null(const null_request& request, byte_source& a, byte_source& b,
                                      const null_reading& reading);

// The same from bytes in memory.
null_samples compute_permutation_null(const null_request& request, std::span<const std::byte> a,
                                      std::span<const std::byte> b, std::span<const float> norm_a = {},
                                      std::span<const float> norm_b = {});

}  // namespace lineage
