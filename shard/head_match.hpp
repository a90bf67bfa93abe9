#pragma once
// Matching the attention heads of one layer of A to those of B, where the bytes are (issue 4:
// evidence that survives a permutation of attention heads).
//
// Query head h is rows h·d … h·d + d − 1 of q_proj and the same columns of o_proj (d = head_dim);
// KV head g is rows g·d … of k_proj and v_proj. A derivative may reorder the heads (query heads
// within their KV group, KV heads with their whole group) without changing the function, and
// element-aligned statistics of q/k/v/o then see noise. Each head is one object: its d rows (of
// o_proj: columns) on a seeded block of hidden dimensions, concatenated. Four optimal
// assignments, by q_proj, by o_proj (query heads), by k_proj and by v_proj (KV heads); the test
// is Spearman's correlation of the matchings by q_proj and by o_proj, always against a
// permutation null (heads are few, so ρ·√(n − 1) is far from normal: with 4 heads ρ = 1 has
// probability 1/24). The hidden dimensions are B's images under the plan's hidden order when one
// was recovered (hidden_match.hpp), so head matching runs in the second matching phase.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "shard/matching_vectors.hpp"
#include "shard/work_block.hpp"

namespace lineage {

struct head_match_request {
  std::int32_t layer = 0;
  std::string prefix;  // "" for the main stack, "mtp." for an MTP block
  // First element of each weight: q_proj [heads·d, hidden], k_proj and v_proj [kv_heads·d, hidden],
  // o_proj [hidden, heads·d].
  element_location q_a, k_a, v_a, o_a, q_b, k_b, v_b, o_b;
  std::uint64_t heads = 0, kv_heads = 0, head_dim = 0, hidden = 0;
  std::uint64_t column_begin = 0, column_count = 0;  // the hidden dimensions compared (≤ 1024)
  // B's hidden dimensions that meet A's [column_begin, column_begin + column_count) under a
  // recovered hidden-dimension permutation (empty: the same ones).
  std::vector<std::uint32_t> columns_b;
  std::uint32_t permutations = 0;  // K of Spearman's permutation null (at least 1)
  std::uint64_t seed = 0;

  // Multiply-add equivalents: each element read (q, o and k, v on both sides) is decoded,
  // gathered, transposed and standardised twice, about 40 multiply-adds' time (measured,
  // plan/time_estimate.cpp); then the heads' similarity matrices and the null's draws.
  [[nodiscard]] std::uint64_t cost() const noexcept {
    const std::uint64_t rows = 2 * (heads + kv_heads) * head_dim;  // q, o and k, v per side
    return 40 * 2 * rows * column_count + (heads * heads + kv_heads * kv_heads) * 2 * head_dim * column_count +
           std::uint64_t{permutations} * heads * 8;
  }

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & layer & prefix & q_a & k_a & v_a & o_a & q_b & k_b & v_b & o_b & heads & kv_heads & head_dim &
        hidden & column_begin & column_count & columns_b & permutations & seed;
  }
};

struct head_match_result {
  std::uint32_t request = 0;  // index into work_plan::head_matches
  bool usable = false;
  std::string reason;
  // Per A head its B head: query heads by q_proj rows, by o_proj columns and by both (mean of the
  // two Pearson matrices); KV heads by k_proj rows, by v_proj rows and by both.
  std::vector<std::int32_t> by_q, by_o, combined_q, by_k, by_v, combined_kv;
  std::uint64_t ranked = 0;        // query heads in the Spearman sample
  double spearman = 0;             // of by_q against by_o
  double combined_similarity = 0;  // mean Pearson over q and o along combined_q
  std::vector<double> null;        // Spearman under random permutations of by_o's values
  double randomizer = 1;           // U in (0, 1], drawn after the null

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & request & usable & reason & by_q & by_o & combined_q & by_k & by_v & combined_kv & ranked & spearman &
        combined_similarity & null & randomizer;
  }
};

class block_reader;

// Deterministic: the same request gives the same bits on any rank.
head_match_result compute_head_match(std::uint32_t index, const head_match_request& request, block_reader& reader);

}  // namespace lineage
