#pragma once
// Matching the neurons of one MLP of A to those of B, where the bytes are (issue 4: evidence that
// survives a permutation of MLP neurons).
//
// A neuron is a row of gate_proj and up_proj and a column of down_proj. Permuting the neurons of
// an MLP consistently in all three leaves its function unchanged, and element-aligned statistics
// then see noise. The test (after model-tracing's): match B's neurons to A's by optimal
// assignment twice, once on gate_proj rows and once on up_proj rows. For a derivative both
// matchings recover the same correspondence; for unrelated models they are two unrelated
// permutations, and the Spearman correlation of the two matched orders is ≈ N(0, 1/(n − 1)). The
// similarities use one fixed block of hidden dimensions (columns of gate/up, rows of down), the
// same in both models, or their images in B under the hidden-dimension permutation the plan
// recovered (hidden_match.hpp).
//
// Wide MLPs (issue 20): the dense neurons_a × neurons_b similarities over every compared dimension
// cost more than the rest of a comparison. Two reductions, both chosen by the plan:
// - a seeded sample of A's neurons is matched (the Spearman sample; the test is the same, its
//   size is the sample's): `sample`;
// - each sampled neuron's candidates in B are its `candidates` best by a Pearson over the first
//   `coarse_columns` compared dimensions, for each role; the exact similarities are computed on the
//   union of candidates only, and each matching is solved on that sparse graph
//   (core/sparse_assignment.hpp).
#include <cstdint>
#include <string>
#include <vector>

#include "shard/matching_vectors.hpp"
#include "shard/work_block.hpp"

namespace lineage {

struct neuron_match_request {
  std::int32_t layer = 0;
  std::string group;  // the MLP's role stem, e.g. "mlp.", "mlp.shared_experts.", "mtp.mlp."
  // First element of each tensor: gate_proj and up_proj [neurons, hidden], down_proj [hidden, neurons].
  element_location gate_a, up_a, down_a, gate_b, up_b, down_b;
  std::uint64_t neurons_a = 0, neurons_b = 0, hidden = 0;
  std::uint64_t column_begin = 0, column_count = 0;  // the hidden dimensions compared
  // B's hidden dimensions that meet A's [column_begin, column_begin + column_count), when the plan
  // recovered a hidden-dimension permutation (empty: the same ones).
  std::vector<std::uint32_t> columns_b;
  std::uint32_t permutations = 0;                    // Spearman's exact permutation null (0: none)
  std::uint64_t seed = 0;
  std::uint64_t sample = 0;          // A neurons matched, a seeded sample (0: all)
  std::uint64_t coarse_columns = 0;  // candidates found on this many compared dimensions (0: dense)
  std::uint64_t candidates = 0;      // kept per sampled neuron and role

  [[nodiscard]] std::uint64_t matched() const noexcept { return sample == 0 ? neurons_a : std::min(sample, neurons_a); }
  [[nodiscard]] bool sparse() const noexcept { return coarse_columns != 0; }

  [[nodiscard]] std::uint64_t cost() const noexcept {
    const std::uint64_t rows = matched(), read = 3 * (neurons_a + neurons_b) * column_count;
    if (sparse())
      return read + 3 * rows * neurons_b * coarse_columns + 9 * rows * candidates * column_count + permutations * rows;
    const std::uint64_t larger = std::max(rows, neurons_b);
    return read + 3 * rows * neurons_b * column_count + 3 * larger * larger * 4 + permutations * rows;
  }

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & layer & group & gate_a & up_a & down_a & gate_b & up_b & down_b & neurons_a & neurons_b & hidden &
        column_begin & column_count & columns_b & permutations & seed & sample & coarse_columns & candidates;
  }
};

struct neuron_match_result {
  std::uint32_t request = 0;  // index into work_plan::neuron_matches
  bool usable = false;
  std::string reason;
  // Per A neuron, the B neuron it was matched to (−1: unmatched, when B has fewer or the neuron is
  // outside the sample, or no candidate path was free): by gate_proj
  // rows, by up_proj rows, and by all three roles together (the best estimate of the neuron map).
  std::vector<std::int32_t> by_gate, by_up, combined;
  std::uint64_t ranked = 0;        // A neurons matched in both (the Spearman sample size)
  double spearman = 0;             // of by_gate against by_up
  double combined_similarity = 0;  // mean Pearson over roles along the combined matching
  std::vector<double> null;        // Spearman under random permutations of by_up's values
  double randomizer = 1;           // U in (0, 1], drawn after the null

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & request & usable & reason & by_gate & by_up & combined & ranked & spearman & combined_similarity &
        null & randomizer;
  }
};

class block_reader;

// Deterministic: the same request gives the same bits on any rank.
neuron_match_result compute_neuron_match(std::uint32_t index, const neuron_match_request& request,
                                         block_reader& reader);

}  // namespace lineage
