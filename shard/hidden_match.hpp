#pragma once
// Matching the hidden (residual-stream) dimensions of A to those of B, where the bytes are
// (issue 4, point 2).
//
// Permuting the residual dimension everywhere it is read or written (embedding and lm_head
// columns, the columns of every linear layer that reads the residual, the rows of those that
// write it, the norm weights' elements) leaves a model's function unchanged and turns every
// element-aligned statistic into noise. The embedding sees through it: row t of both embeddings
// is token t (when the vocabularies are shared), so hidden dimension j of A, the column of A's
// embedding, meets the column of B's that is its image. The columns are compared on one seeded
// block of shared rows, split in two halves; B's dimensions are matched to A's by optimal
// assignment on each half. A derivative's two matchings recover the same permutation (Spearman
// ρ ≈ 1, whether or not its dimensions were moved); unrelated models give two unrelated
// permutations, ρ·√(n − 1) ≈ N(0, 1). The matching on both halves together is the estimate of
// the permutation. When B's width differs (pruned hidden dimensions), the assignment is
// rectangular: the test stands, but the estimate is not applied to the other statistics.
//
// Negating a residual dimension everywhere it is read or written keeps the function too (RMSNorm
// does not see signs), so dimensions are matched on |Pearson|, and a matched pair whose columns
// correlate negatively is recorded as negated.
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "shard/unit_team.hpp"
#include "shard/work_block.hpp"

namespace lineage {

// Above this width on either side (issue 20): candidates from a coarse |Pearson| over
// `hidden_coarse_rows` rows of each half, `hidden_candidates` per dimension and half, instead of
// the dense hidden × hidden similarities (a 2048-wide embedding, permuted and drifted at 4: the
// permutation recovered exactly, as densely; over 512 rows, 7 of 2048 dimensions were missed).
inline constexpr std::uint64_t hidden_dense_limit = 1024, hidden_coarse_rows = 1024, hidden_candidates = 16;

struct hidden_match_request {
  std::string role;                        // the tensor read: "embed_tokens.weight" (or "lm_head.weight")
  element_location a, b;                   // first element of each side's [rows, hidden] tensor
  std::uint64_t rows_a = 0, rows_b = 0;
  std::uint64_t hidden = 0, hidden_b = 0;  // columns of A's and of B's tensor (B's fewer: pruned width)
  std::uint64_t row_begin = 0, row_count = 0;  // the shared rows compared (two halves), row_count even
  // With tokenizers of other vocabularies: the compared rows as pairs of token rows (row_count of
  // each, A's ascending); row_begin is then rows_a_compared.front(). Empty: rows
  // [row_begin, row_begin + row_count) on both sides.
  std::vector<std::uint32_t> compared_a, compared_b;
  // The rows of A the compared ones span, which the embedding's null leaves out.
  [[nodiscard]] std::pair<std::uint64_t, std::uint64_t> spanned_rows() const noexcept {
    return compared_a.empty() ? std::pair{row_begin, row_begin + row_count}
                              : std::pair<std::uint64_t, std::uint64_t>{compared_a.front(), compared_a.back() + 1};
  }
  std::uint32_t permutations = 0;          // Spearman's exact permutation null (0: none)
  std::uint64_t seed = 0;

  // Multiply-adds: the compared columns read (both sides, both halves), then both halves'
  // similarities, dense or on the candidates.
  [[nodiscard]] std::uint64_t cost() const noexcept { return read_cost() + similarity_cost(); }
  [[nodiscard]] std::uint64_t read_cost() const noexcept { return (hidden + hidden_b) * row_count; }
  [[nodiscard]] std::uint64_t similarity_cost() const noexcept {
    if (std::max(hidden, hidden_b) <= hidden_dense_limit) return hidden * hidden_b * (row_count + 12);
    const std::uint64_t coarse = std::min(hidden_coarse_rows, row_count / 2);
    return 2 * hidden * hidden_b * coarse + 2 * hidden * hidden_candidates * row_count;
  }
  // The rotation's estimate when it is spent (equal widths, neither B as it is nor the permutation
  // fitting already, shard/hidden_rotation.hpp): Bᵀ·A over both halves and one SVD of the width,
  // whose time is that of about 9 hidden³ multiply-adds of the products (measured at widths 2048 and
  // 4096, plan/time_estimate.cpp). A rotation that is applied takes a second SVD.
  [[nodiscard]] std::uint64_t rotation_cost() const noexcept { return products_cost() + svd_cost(); }
  [[nodiscard]] std::uint64_t products_cost() const noexcept {
    return hidden != hidden_b ? 0 : row_count * hidden * hidden;
  }
  [[nodiscard]] std::uint64_t svd_cost() const noexcept { return hidden != hidden_b ? 0 : 9 * hidden * hidden * hidden; }
  // One member's share when `members` ranks compute the unit together (compute_hidden_match with a
  // team): every member reads all compared rows and takes its share of the similarities and of the
  // cross products; the lead also runs the SVDs.
  [[nodiscard]] std::uint64_t member_cost(std::uint64_t members) const noexcept {
    return read_cost() + similarity_cost() / members;
  }
  [[nodiscard]] std::uint64_t member_rotation_cost(std::uint64_t members, bool lead) const noexcept {
    return products_cost() / members + (lead ? svd_cost() : 0);
  }

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & role & a & b & rows_a & rows_b & hidden & hidden_b & row_begin & row_count & compared_a & compared_b &
        permutations & seed;
  }
};

struct hidden_match_result {
  std::uint32_t request = 0;  // index into work_plan::hidden_matches
  bool usable = false;
  std::string reason;
  // Per A dimension, the B dimension it was matched to (−1: unmatched, when B is narrower): on
  // the first half of the rows, on the second, and on both (the estimate of the permutation).
  std::vector<std::int32_t> by_first, by_second, combined;
  std::uint64_t ranked = 0;        // the Spearman sample size: A dimensions matched in both halves
  double spearman = 0;             // of by_first against by_second
  double combined_similarity = 0;  // mean |Pearson| of the matched columns over both halves
  std::vector<std::uint8_t> negated;  // per A dimension: 1 when its matched B column is negatively correlated
  std::vector<double> null;        // Spearman under random permutations of by_second's values
  double randomizer = 1;           // U in (0, 1], drawn after the null
  // When the widths are equal: a rotation of the residual stream estimated from the same rows
  // (shard/hidden_rotation.hpp), B's dimensions by A's, and the held-out fits of it, of B as it is
  // and of the recovered permutation that decide how to read B.
  std::vector<float> rotation;
  double rotation_fit = 0, identity_fit = 0, permutation_fit = 0;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & request & usable & reason & by_first & by_second & combined & ranked & spearman &
        combined_similarity & negated & null & randomizer & rotation & rotation_fit & identity_fit & permutation_fit;
  }
};

class block_reader;

// Deterministic: the same request gives the same bits on any rank.
hidden_match_result compute_hidden_match(std::uint32_t index, const hidden_match_request& request,
                                         block_reader& reader);

// The same, computed by every member of `team` together (issue 20): the members split the
// similarities by A's dimensions and the rotation's cross products by B's, and the member `lead`
// finishes the rotation. The lead's result has the bits of the one above; the other members'
// results leave the rotation out and are not to be kept.
hidden_match_result compute_hidden_match(std::uint32_t index, const hidden_match_request& request,
                                         block_reader& reader, const unit_team& team, int lead);

}  // namespace lineage
