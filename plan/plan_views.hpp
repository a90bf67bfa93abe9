#pragma once
// The planner's view of one model: every tensor mapped to its canonical key(s). Shared by the
// parts of the planner (plan.cpp: pairs, blocks, nulls; plan_layers.cpp: cross-layer units;
// plan_experts.cpp: expert matching); not part of the plan itself.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arch/architecture_map.hpp"
#include "checkpoint/checkpoint.hpp"
#include "plan/plan.hpp"

namespace lineage {

// A mapped view with the tensor it comes from.
struct side_view {
  const checkpoint_tensor* tensor = nullptr;
  tensor_view view;
};

using keyed_views = std::map<tensor_key, std::vector<side_view>>;

// The planned form of a view (the whole tensor, or the rows the view selects).
planned_tensor plan_side(const side_view& side);

// Where a view's first element is (the location a matching unit reads from).
element_location location_of(const side_view& side);

// Maps every tensor of one side (generic mapping when `arch` is null); keys claimed by more than
// one view are ambiguous and keep all of them.
keyed_views map_side(const checkpoint& model, const architecture* arch);

unpaired_tensor unpaired(char side, const side_view& v, std::string reason);

// rows × row_length of a planned tensor, as the nulls see it: rows of a matrix, elements of a vector.
std::pair<std::uint64_t, std::uint64_t> unit_shape(const planned_tensor& t);

// The job seed mixed once, so that seeds 1, 2, 3 do not give related streams.
std::uint64_t mixed_job_seed(std::uint64_t seed) noexcept;

// One layer × layer unit per role with one tensor per layer (plan_layers.cpp).
void plan_cross_layers(work_plan& plan, const keyed_views& views_a, const keyed_views& views_b,
                       std::uint64_t seed);

// Roles whose rows are the layer's experts (the router weight and its score-correction bias).
bool is_router_role(std::string_view role) noexcept;

// Roles whose rows are tokens: the embedding, the output head, an MTP block's embedding and head.
bool is_token_row_role(std::string_view role) noexcept;

// An embedding or output head paired row by row by the shared tokens (plan_tokens.cpp), or nullopt
// (no tokenizers, the same vocabulary on tensors of one shape, other widths, under two shared rows):
// then it pairs by key as any tensor.
std::optional<tensor_pair> token_paired(const token_pairing* tokens, const tensor_key& key, const planned_tensor& a,
                                        const planned_tensor& b);

// "mtp." for the roles of multi-token-prediction blocks (numbered from 0, like the main layers),
// "" for the main stack: a layer of experts is identified by (prefix, layer).
std::string block_prefix(std::string_view role);

// One expert-matching unit per layer with at least two routed experts in each model
// (plan_experts.cpp). None when options.permutations_experts is 0.
void plan_expert_matches(work_plan& plan, const keyed_views& views_a, const keyed_views& views_b,
                         const null_options& options);

// One neuron-matching unit per MLP (dense, shared experts) both models have with the same hidden
// size (plan_neurons.cpp). None when options.match_neurons is false.
void plan_neuron_matches(work_plan& plan, const keyed_views& views_a, const keyed_views& views_b,
                         const null_options& options);

// At most one hidden-dimension matching unit: on the embedding (else lm_head) when both models
// have it with the same hidden size and enough shared rows (plan_hidden.cpp). None when
// options.match_hidden is false. With `results` (of the plan made without them), stores them.
// With `tokens` of other vocabularies, the compared rows are pairs of shared tokens' rows; else the
// token ids below the smaller vocabulary.
void plan_hidden_matches(work_plan& plan, const keyed_views& views_a, const keyed_views& views_b,
                         const null_options& options, const std::vector<hidden_match_result>* results,
                         const token_pairing* tokens = nullptr);

// One fingerprint unit per tensor of a layer (routed experts aside) that both models have under
// the same key with other shapes (plan_fingerprints.cpp).
void plan_fingerprints(work_plan& plan, const keyed_views& views_a, const keyed_views& views_b,
                       const null_options& options);

// Where the residual (hidden) dimension runs in a canonical role (an MTP block's roles without
// their "mtp." prefix): the columns of what reads the residual, the rows of what writes it, the
// elements of output biases (elements) and of norm weights (norm_elements: they follow the order
// but not a sign flip, which RMSNorm does not see); eh_proj writes it (rows) and reads two
// residual-ordered halves (columns). Table in plan_hidden.cpp. Orders may carry negated entries
// (shard/work_block.hpp).
enum class residual_axis { none, rows, columns, elements, norm_elements, rows_and_both_halves };
residual_axis axis_of(std::string_view role);

// The norm weight (a role of the same layer) whose output a linear layer of `role` reads: the
// input norm for q/k/v, the post-attention norm for the MLP's gate/up and the router, the final
// norm for lm_head; "" for the rest. Rescaling that norm against the layer's columns keeps the
// function, so their product is what the direction statistic compares.
std::string norm_read_by(std::string_view role);

// For a tensor of `role` seen as rows × row_length, B's row per A row and B's column per A column
// under the hidden permutation `order` (B dimension per A dimension); each empty where the
// residual dimension does not run (or its extent is not order.size()).
struct residual_map {
  std::vector<std::uint32_t> rows, columns;
};
residual_map residual_map_for(std::string_view role, std::uint64_t rows, std::uint64_t row_length,
                              const std::vector<std::uint32_t>& order);

// B's hidden dimensions that meet A's [begin, begin + count) under the plan's hidden order, or
// empty when none was applied (or the width `hidden` is not the order's): the columns_b of the
// matching units planned after the first phase.
std::vector<std::uint32_t> hidden_images(const work_plan& plan, std::uint64_t begin, std::uint64_t count,
                                         std::uint64_t hidden);

// Reads B through what the matching phases recovered, one b_alignment per pair carrying both:
// when the hidden matching recovered a permutation (significant at z ≥ 3.09 by its closed form and
// not the identity), every pair whose role reads or writes the residual stream and that is tested
// in a unit after the hidden one reads B through it (the hidden unit's own tensors never do: the
// order was chosen on them); in every layer with a usable head order, B's v rows (and bias) and
// o_proj's columns are read in it. Call after choose_tests, before the blocks.
void align_b(work_plan& plan);

// Whether a pair's B can be read in A's frame through the plan's dense hidden map (a rotation, or
// the selection of a narrower or wider B): a matrix whose residual axis is the map's.
bool fits_hidden_map(const work_plan& plan, const tensor_pair& pair);

// One attention-head matching unit per layer (main stack and MTP blocks) where both models have
// q/k/v/o_proj weights of equal shapes and config.json gives both the same head counts
// (plan_heads.cpp). None when options.match_heads is false. With `results` (of the plan made
// without them), stores them and marks the units whose head order is applied.
void plan_head_matches(work_plan& plan, const keyed_views& views_a, const keyed_views& views_b,
                       const null_options& options, const std::vector<head_match_result>* results);

// B's rows per A row of one layer's attention: query (q_proj rows, q_proj.bias elements, o_proj
// columns; heads·d entries) and key_value (k/v_proj rows and biases; kv_heads·d entries).
struct head_order {
  std::vector<std::uint32_t> query, key_value;
};

// The head order a matching recovered from q_proj and k_proj alone (by_q, by_k), or nullopt when
// it is unusable or the identity. v_proj and o_proj are read in it: their test (the values unit)
// permutes the dimensions inside heads, which the order, chosen from other tensors, does not see,
// so applying it keeps that test exact whatever the order is.
std::optional<head_order> applied_head_order(const head_match_request& request, const head_match_result& result);

// The applied head orders of the plan, by (block prefix, layer).
std::map<std::pair<std::string, int>, head_order> applied_head_orders(const work_plan& plan);

// For a tensor of `role` (with its block prefix) seen as rows × row_length, B's rows and columns
// under a layer's head order; each empty where no head axis runs (or its extent does not fit).
residual_map head_map_for(std::string_view role, std::uint64_t rows, std::uint64_t row_length,
                          const head_order& order);

// num_attention_heads and num_key_value_heads (absent: the former) of a config.json; 0 when absent
// or not a positive count.
std::pair<std::uint64_t, std::uint64_t> head_counts(const std::string& config_json);

// Each pair's axes (plan.pairs[i].axes): the architectures' `axes:` where both models have rules,
// else inferred from shapes (plan_axes.cpp).
void assign_axes(work_plan& plan, const architecture* arch_a, const architecture* arch_b, const keyed_views& views_a,
                 const keyed_views& views_b);

// Each pair's test: the axis its null permutes and its unit (plan.units, without groups yet), or
// why it has none (plan_symmetry.cpp). Call after assign_axes, before align_b.
void choose_tests(work_plan& plan);

// The units' groups, draws and null requests (plan_units.cpp); units no pair could join go. `rope`:
// q/k dimensions inside a head are paired by rotary embedding (not permuted). Call after align_b.
void plan_symmetry_nulls(work_plan& plan, const null_options& options, bool rope);

// What the matching changes in the pairing, beyond the re-keyed views.
struct expert_pairing {
  // (layer, role) → the neurons [first, second) the matching sampled (rows of gate/up, columns of
  // down), left out of the matched pairs' tests. Routers keep their key: a router read in the
  // matched order would be tested on a pairing the matching chose.
  std::map<std::pair<int, std::string>, std::pair<std::uint64_t, std::uint64_t>> excluded_rows;
};

// Stores `results` in the plan and, in every layer whose matching is usable, re-keys B's expert
// views to the A expert each was matched to; experts left unmatched (unequal counts) leave the
// views and become unpaired tensors with the reason.
expert_pairing apply_expert_matching(work_plan& plan, const std::vector<expert_match_result>& results,
                                     keyed_views& views_a, keyed_views& views_b);

}  // namespace lineage
