#pragma once
// Matching the routed experts of one MoE layer of A to those of B, where the experts' bytes are.
//
// Expert labels carry no meaning: a derivative may list its experts in any order (the router rows
// permuted with them), and a pruned one has fewer. So each layer's experts are matched by optimal
// assignment on their similarity before they are compared. The similarity of expert e of A and f
// of B is the mean over the expert roles (gate, up, down) of the Pearson correlation on one fixed
// block of each role's tensor: rows [row_begin, row_begin + row_count) × columns [column_begin,
// column_begin + column_count), the same positions in every expert of both models.
//
// The matching is tested against a permutation null: for each of K draws the sampled rows of every
// expert of B are shuffled (independently per expert and role), which destroys any correspondence
// while keeping each block's column structure, and the optimal assignment is solved again. The
// sampled rows are then left out of the matched pairs' own permutation nulls, so the selection
// made here does not inflate their p-values.
#include <cstdint>
#include <string>
#include <vector>

#include "shard/work_block.hpp"

namespace lineage {

// The sample of one expert role: the same block in every expert of both models.
struct expert_sample_block {
  std::string role;                       // e.g. "mlp.experts.up_proj.weight"
  std::uint64_t rows = 0, row_length = 0;  // the tensor's shape as rows × row_length
  std::uint64_t row_begin = 0, row_count = 0;
  std::uint64_t column_begin = 0, column_count = 0;
  // When the plan recovered a hidden-dimension permutation: B's rows and columns that meet the
  // block's (empty: the same ones).
  std::vector<std::uint32_t> rows_b, columns_b;

  [[nodiscard]] std::uint64_t elements() const noexcept { return row_count * column_count; }

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & role & rows & row_length & row_begin & row_count & column_begin & column_count & rows_b & columns_b;
  }
};

struct expert_match_request {
  std::int32_t layer = 0;
  std::string role_prefix;  // "" for the main stack, "mtp." for an MTP block (layers numbered from 0)
  std::vector<expert_sample_block> blocks;        // one per role
  std::vector<std::int32_t> experts_a, experts_b;  // expert indices, ascending
  // First element of each expert's tensor, expert-major: [expert × blocks.size() + role].
  std::vector<element_location> a, b;
  std::uint32_t permutations = 0;
  std::uint64_t seed = 0;

  [[nodiscard]] std::uint64_t sample_elements() const noexcept {
    std::uint64_t total = 0;
    for (const auto& block : blocks) total += block.elements();
    return total;
  }
  [[nodiscard]] std::uint64_t cost() const noexcept {
    return (permutations + 1ull) * experts_a.size() * experts_b.size() * sample_elements();
  }

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & layer & role_prefix & blocks & experts_a & experts_b & a & b & permutations & seed;
  }
};

struct expert_match_result {
  std::uint32_t request = 0;  // index into work_plan::expert_matches
  bool usable = false;
  std::string reason;
  std::vector<double> similarity;       // experts_a × experts_b, row-major
  std::vector<std::int32_t> matched_b;  // per A expert: index into experts_b, or −1 (unmatched)
  double score = 0;                     // mean similarity over the matched pairs
  std::vector<double> null_scores;      // the same under each of the K row shuffles of B
  double randomizer = 1;                // U in (0, 1], drawn after the null, for the randomized p

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & request & usable & reason & similarity & matched_b & score & null_scores & randomizer;
  }
};

class block_reader;

// Reads every expert's sample blocks through `reader`, matches and draws the null. Deterministic:
// the same request gives the same bits on any rank.
expert_match_result compute_expert_match(std::uint32_t index, const expert_match_request& request,
                                         block_reader& reader);

}  // namespace lineage
