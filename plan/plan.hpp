#pragma once
// The work plan, made on rank 0 from the two checkpoints' headers and broadcast to every rank.
//
// Tensors are paired by canonical key (architecture_map.hpp); each pair is cut into blocks of a
// fixed element count; blocks are numbered in plan order (pairs sorted by key) and dealt to ranks
// as contiguous runs of about equal bytes. Only the dealing depends on the rank count — block
// boundaries, and therefore every number in the report, do not.
#include <cstdint>
#include <string>
#include <vector>

#include "arch/architecture_map.hpp"
#include "checkpoint/checkpoint.hpp"
#include "core/dtype.hpp"
#include "plan/content_plan.hpp"
#include "shard/byte_source.hpp"
#include "shard/cross_layer.hpp"
#include "shard/expert_match.hpp"
#include "shard/fingerprint.hpp"
#include "shard/head_match.hpp"
#include "shard/hidden_match.hpp"
#include "shard/neuron_match.hpp"
#include "shard/permutation_null.hpp"
#include "shard/work_block.hpp"

namespace lineage {

inline constexpr std::uint64_t default_block_elements = std::uint64_t{1} << 22;

// One side of a pair: the tensor (or the rows of it a view selects).
struct planned_tensor {
  std::string name;                   // label of the view, e.g. "model.layers.0.mlp.up_proj.weight"
  dtype type = dtype::f32;
  std::vector<std::uint64_t> shape;   // of the view
  std::uint32_t file = 0;
  std::uint64_t byte_offset = 0;      // of the view's first element
  std::uint64_t elements = 0;
};

struct tensor_pair {
  tensor_key key;
  planned_tensor a, b;
  std::uint64_t first_block = 0;      // blocks [first_block, first_block + block_count)
  std::uint64_t block_count = 0;
  // After expert matching (plan_experts.cpp). A router's rows are experts: row rows_a[k] of A
  // meets row rows_b[k] of B (the matched experts); empty for element-aligned pairs. A matched
  // expert's null leaves out the rows [exclude_begin, exclude_end) the matching looked at.
  std::vector<std::uint32_t> rows_a, rows_b;
  std::uint64_t exclude_begin = 0, exclude_end = 0;
  // After token pairing (plan_tokens.cpp), an embedding's or output head's rows are the shared
  // tokens: row rows_a[k] of A and row rows_b[k] of B stand for the same token.
  // "key" (same canonical key), or what chose B's side: "expert matching" (B's expert or router
  // rows), "shared tokens", "hidden matching", "head matching" (comma-separated when several did).
  std::string pairing = "key";
  // What A's view's axes mean (arch/architecture_axes.hpp), and how the pair is tested: the axis its
  // null permutes (−1: none, `untested` says why) in the unit `test_unit` (work_plan::units).
  std::vector<axis_kind> axes;
  // B read through the plan's hidden rotation: its residual axis turned into A's frame (its norm
  // folded in first), computed by the null alone (no blocks; the null sums the pair's moments).
  bool rotated = false;
  std::int32_t test_axis = -1;
  std::int32_t test_unit = -1;
  std::string untested;
  // Index into work_plan::alignments when B's rows or columns are read in another order (a
  // recovered hidden-dimension permutation, an applied head order; a matched router's rows then go
  // there too), else −1.
  std::int32_t alignment = -1;
};

// One test unit: the tensors one component of the architecture's symmetry group permutes, tested
// together by one statistic under one draw per sample (plan/plan_symmetry.cpp). Units are ordered
// so that no unit's tensors move under a later unit's component, which makes their p-values
// independent under the null (docs/CALIBRATION.md).
struct symmetry_unit {
  std::string kind;    // hidden, channels, latent, experts, heads, values, neurons
  std::string label;   // e.g. "layer 3 mlp neurons"
  int layer = -1;      // −1: the whole model, or outside the layer stack
  symmetry_group group;
  std::uint32_t permutations = 0;  // K
  std::uint64_t seed = 0;          // of the draws every member shares
  std::vector<std::uint32_t> members;  // indices into work_plan::nulls, in plan order

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & kind & label & layer & group & permutations & seed & members;
  }
};

struct unpaired_tensor {
  char side = 'a';                    // 'a' or 'b'
  std::string name;
  tensor_key key;
  dtype type = dtype::f32;
  std::vector<std::uint64_t> shape;
  std::string reason;                 // one line, e.g. "no tensor with this key in model B"
};

// The tokenizers beside the two checkpoints (tokenizer.json), as the planner needs them: whether
// both were there, whether they are the same vocabulary (the same piece at every id), and the ids of
// the byte-normalised tokens both have (shared_token_ids, by increasing id in A).
struct token_pairing {
  bool available = false;
  bool identical = false;
  std::vector<std::uint32_t> ids_a, ids_b;
};

struct model_description {
  std::string path;                   // as given
  std::string model_type;             // "" when config.json has none
  std::string architecture;           // rule set used, or "generic"
  std::vector<std::string> files;
  std::vector<std::uint64_t> file_sizes;
  std::uint64_t tensor_count = 0;
  std::uint64_t parameter_count = 0;
  std::string config_json;            // config.json as parsed, dumped compactly ("{}" when absent)
};

struct work_plan {
  model_description model_a, model_b;
  std::uint64_t block_elements = default_block_elements;
  // How the units read their bytes: mapped or pread, and the window a null keeps resident per side
  // (set by rank 0 from the memory budget, plan/memory_budget.hpp). The figures do not depend on it.
  read_settings reading;
  std::vector<tensor_pair> pairs;     // in plan order
  std::vector<work_block> blocks;     // in plan order
  std::vector<unpaired_tensor> unpaired;
  std::vector<std::uint64_t> rank_first_block;  // size ranks + 1: rank r does [v[r], v[r+1])
  std::vector<null_request> nulls;    // permutation nulls, in pair order (pairs with a test)
  std::vector<std::uint32_t> null_rank;  // the rank computing each null
  std::vector<symmetry_unit> units;      // in the order that makes their tests independent
  std::vector<cross_layer_request> cross_layers;  // one per role with ≥ 2 layers on each side
  std::vector<std::uint32_t> cross_layer_rank;
  // One per layer with routed experts in both models. A plan made without their results pairs
  // experts by index and serves only to compute them; the plan made with them (plan_options::
  // expert_matching) pairs experts and router rows by the matching and keeps the results here.
  std::vector<expert_match_request> expert_matches;
  std::vector<std::uint32_t> expert_match_rank;
  std::vector<expert_match_result> expert_matching;  // empty until matched; else one per request
  std::vector<neuron_match_request> neuron_matches;  // one per MLP both models have
  std::vector<std::uint32_t> neuron_match_rank;
  // At most one: the hidden dimensions matched on the embedding, the first phase of all. A plan
  // made without its result serves only to compute it; the plans after keep the result here.
  std::vector<hidden_match_request> hidden_matches;
  std::vector<std::uint32_t> hidden_match_rank;
  std::vector<hidden_match_result> hidden_matching;  // empty until matched; else one per request
  // One per attention layer both models have with the same head layout, computed in the second
  // matching phase with the expert matching (after the hidden order is known); the plan made with
  // their results keeps them here and reads B's q/k/v/o through the head orders that pass the
  // gate (plan_heads.cpp): head_applied[i] is 1 for those.
  std::vector<head_match_request> head_matches;
  std::vector<std::uint32_t> head_match_rank;
  std::vector<head_match_result> head_matching;  // empty until matched; else one per request
  std::vector<std::uint8_t> head_applied;
  std::vector<b_alignment> alignments;  // see tensor_pair::alignment
  // The hidden permutation applied (B dimension per A dimension), or empty (plan_hidden.cpp).
  std::vector<std::uint32_t> hidden_order;
  // Or a dense map of the residual stream applied (B's dimensions by A's, row-major; B·M is B in A's
  // frame): a rotation recovered by Procrustes, or, when B is narrower or wider (hidden dimensions
  // pruned), the matching's selection of B's dimension for each A dimension. Empty: none.
  std::vector<float> hidden_rotation;
  std::uint64_t hidden_rotation_rows = 0;  // B's width (the map's rows); its columns: A's width
  // One per tensor of a layer both models have with other shapes (plan_fingerprints.cpp).
  std::vector<fingerprint_request> fingerprints;
  std::vector<std::uint32_t> fingerprint_rank;
  // The report's "tokenizers" object as JSON text, made by rank 0 where it read the tokenizer
  // files (job/tokenizer_evidence.cpp); empty when no one looked.
  std::string tokenizers;
  // The shared tokens the plan paired by, kept on rank 0 only (not sent to the other ranks) so that
  // the plans after the matching phases reuse them instead of reading the tokenizers again.
  token_pairing token_pairs;
  // The manifest's hashes of both models: ranges, tensors, files and the units that hash what no
  // block reads (plan/content_plan.hpp).
  content_plan content;

  [[nodiscard]] bool awaits_hidden_matching() const noexcept {
    return !hidden_matches.empty() && hidden_matching.empty();
  }

  [[nodiscard]] bool awaits_expert_matching() const noexcept {
    return !expert_matches.empty() && expert_matching.empty();
  }

  [[nodiscard]] bool awaits_head_matching() const noexcept { return !head_matches.empty() && head_matching.empty(); }

  // The second phase (after the hidden dimensions): expert and head matching together.
  [[nodiscard]] bool awaits_second_phase() const noexcept {
    return awaits_expert_matching() || awaits_head_matching();
  }

  // Any matching phase still to run (the blocks come after all of them).
  [[nodiscard]] bool awaits_matching() const noexcept { return awaits_hidden_matching() || awaits_second_phase(); }

  [[nodiscard]] int ranks() const noexcept { return static_cast<int>(rank_first_block.size()) - 1; }
  [[nodiscard]] std::uint64_t total_bytes() const noexcept {
    std::uint64_t total = 0;
    for (const auto& block : blocks)
      total += block.elements * (dtype_size(block.a.type) + dtype_size(block.b.type));
    return total;
  }
};

// How many permutations each null draws. Vectors (1-D tensors, and matrices of one row) permute
// elements, matrices permute rows.
struct null_options {
  std::uint32_t permutations_vector = 1000;
  std::uint32_t permutations_matrix = 200;
  std::uint64_t seed = 20260123;  // the job's seed; each pair's stream mixes in its key
  std::uint32_t permutations_experts = 100;  // K of each layer's expert-matching null
  bool match_neurons = true;                 // neuron matching of every MLP
  // K of Spearman's exact permutation null in neuron matching; 0: the closed form decides.
  std::uint32_t permutations_neurons = 0;
  bool match_hidden = true;  // hidden-dimension matching on the embedding (K: permutations_neurons)
  bool match_heads = true;   // attention-head matching of every layer
  std::uint32_t permutations_heads = 1000;  // K of its Spearman permutation null (always one)
  bool cross_layer = true;                  // layer × layer matrices of every per-layer role
  bool fingerprints = true;                 // shape-free fingerprints of pairs of another shape
  // K of a unit whose every null is computed from cross products (then a draw costs O(units)).
  std::uint32_t permutations_products = 10000;
  null_draws draws = null_draws::automatic;
};

struct plan_options {
  std::uint64_t block_elements = default_block_elements;
  int ranks = 1;
  null_options nulls;
  // The results of the expert-matching units of the plan made without them, in its order.
  const std::vector<expert_match_result>* expert_matching = nullptr;
  // The results of the hidden-matching unit of the plan made without them.
  const std::vector<hidden_match_result>* hidden_matching = nullptr;
  // The results of the head-matching units of the plan made without them, in its order.
  const std::vector<head_match_result>* head_matching = nullptr;
  // The tokenizers' shared tokens: embeddings and output heads of other vocabularies pair by them.
  const token_pairing* tokens = nullptr;
  // What the manifest hashes (plan_content.hpp).
  content_options content = {};
};

// Pairs the tensors of `a` and `b`. When both model types have rule sets, each side is mapped by
// its own; otherwise both sides use the generic mapping (identical names pair).
work_plan make_plan(const checkpoint& a, const checkpoint& b, const architecture_registry& registry,
                    const plan_options& options);

// Deals the blocks of `plan` to `ranks` ranks as contiguous runs of about equal bytes.
void assign_blocks(work_plan& plan, int ranks);

// Deals the nulls, the cross-layer, neuron-matching, expert- and head-matching units to ranks by cost,
// largest first, each to the least loaded rank. Which rank computes a unit does not change its
// result.
void assign_units(work_plan& plan, int ranks);

// The canonical key as text ("layer 3 / mlp.experts.up_proj.weight / expert 7"), for seeds and
// messages.
std::string key_text(const tensor_key& key);

}  // namespace lineage
