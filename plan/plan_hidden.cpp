// The planner's part in hidden-dimension matching: one unit on the embedding (or, without one,
// lm_head) that both models have with the same hidden size. See shard/hidden_match.hpp.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>
#include <tuple>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "plan/plan_views.hpp"
#include "shard/hidden_rotation.hpp"

namespace lineage {
namespace {

// Shared rows compared (two halves), and the largest hidden size matched (three hidden × hidden
// matrices of doubles are alive at once, as in neuron matching).
constexpr std::uint64_t compared_rows = 8192;
constexpr std::uint64_t minimum_rows = 32;
constexpr std::uint64_t max_similarity_entries = std::uint64_t{1} << 27;

const side_view* single_view(const keyed_views& views, const std::string& role) {
  const auto found = views.find(tensor_key{-1, role, -1});
  if (found == views.end() || found->second.size() != 1) return nullptr;
  return &found->second.front();
}

// A recovered permutation is applied only when the matching is significant by its closed form at
// this z (upper tail 10⁻³): weaker matchings leave B as it is.
constexpr double apply_at_z = 3.090232306167813;

// A rotation is applied when, on the rows it was not estimated on, it explains A's embedding
// clearly better than B as it is. Which reading of B the later units use changes their power, never
// their validity (the rotation comes from the embedding alone), so this only keeps a rotation that
// adds nothing from blurring an element-aligned derivative.
bool applies_rotation(const hidden_match_request& request, const hidden_match_result& result) {
  return result.usable && request.hidden == request.hidden_b && result.rotation.size() == request.hidden * request.hidden &&
         rotation_applies(result.rotation_fit, result.identity_fit, result.permutation_fit);
}

// B narrower or wider than A (hidden dimensions pruned): when the two halves agree as a matching of
// a derivative does, the matched B dimension of each A dimension (signed), as a dense map B's
// width × A's width; an A dimension left unmatched reads zeros. Empty otherwise.
std::vector<float> selection_map(const hidden_match_request& request, const hidden_match_result& result) {
  if (!result.usable || result.ranked < 2 || result.combined.size() != request.hidden ||
      result.spearman * std::sqrt(static_cast<double>(result.ranked) - 1) < apply_at_z)
    return {};
  std::vector<float> map(request.hidden_b * request.hidden, 0.0f);
  for (std::size_t d = 0; d < result.combined.size(); ++d) {
    const std::int32_t j = result.combined[d];
    if (j < 0 || static_cast<std::uint64_t>(j) >= request.hidden_b) continue;
    const bool negated = d < result.negated.size() && result.negated[d] != 0;
    map[static_cast<std::size_t>(j) * request.hidden + d] = negated ? -1.0f : 1.0f;
  }
  return map;
}

}  // namespace

residual_axis axis_of(std::string_view role) {
  if (role.starts_with("mtp.")) role.remove_prefix(4);
  static const std::map<std::string_view, residual_axis> axes = {
      {"embed_tokens.weight", residual_axis::columns},
      {"embed_positions.weight", residual_axis::columns},
      {"lm_head.weight", residual_axis::columns},
      {"shared_head.head.weight", residual_axis::columns},
      {"self_attn.q_proj.weight", residual_axis::columns},
      {"self_attn.k_proj.weight", residual_axis::columns},
      {"self_attn.v_proj.weight", residual_axis::columns},
      {"self_attn.q_a_proj.weight", residual_axis::columns},
      {"self_attn.kv_a_proj_with_mqa.weight", residual_axis::columns},
      {"mlp.gate_proj.weight", residual_axis::columns},
      {"mlp.up_proj.weight", residual_axis::columns},
      {"mlp.experts.gate_proj.weight", residual_axis::columns},
      {"mlp.experts.up_proj.weight", residual_axis::columns},
      {"mlp.shared_experts.gate_proj.weight", residual_axis::columns},
      {"mlp.shared_experts.up_proj.weight", residual_axis::columns},
      {"mlp.router.weight", residual_axis::columns},
      {"mlp.shared_expert_gate.weight", residual_axis::columns},
      {"attn.c_proj.weight", residual_axis::columns},
      {"mlp.c_proj.weight", residual_axis::columns},
      {"self_attn.o_proj.weight", residual_axis::rows},
      {"mlp.down_proj.weight", residual_axis::rows},
      {"mlp.experts.down_proj.weight", residual_axis::rows},
      {"mlp.shared_experts.down_proj.weight", residual_axis::rows},
      {"attn.c_attn.weight", residual_axis::rows},
      {"mlp.c_fc.weight", residual_axis::rows},
      {"input_layernorm.weight", residual_axis::norm_elements},
      {"input_layernorm.bias", residual_axis::norm_elements},
      {"post_attention_layernorm.weight", residual_axis::norm_elements},
      {"post_attention_layernorm.bias", residual_axis::norm_elements},
      {"norm.weight", residual_axis::norm_elements},
      {"norm.bias", residual_axis::norm_elements},
      {"enorm.weight", residual_axis::norm_elements},
      {"hnorm.weight", residual_axis::norm_elements},
      {"shared_head.norm.weight", residual_axis::norm_elements},
      {"self_attn.o_proj.bias", residual_axis::elements},
      {"mlp.down_proj.bias", residual_axis::elements},
      {"attn.c_proj.bias", residual_axis::elements},
      {"mlp.c_proj.bias", residual_axis::elements},
      {"eh_proj.weight", residual_axis::rows_and_both_halves},  // reads [enorm(embedding); hnorm(hidden)]
  };
  const auto found = axes.find(role);
  return found == axes.end() ? residual_axis::none : found->second;
}

std::string norm_read_by(std::string_view role) {
  std::string prefix;
  if (role.starts_with("mtp.")) {
    prefix = "mtp.";
    role.remove_prefix(4);
  }
  static const std::map<std::string_view, std::string_view> norms = {
      {"self_attn.q_proj.weight", "input_layernorm.weight"},
      {"self_attn.k_proj.weight", "input_layernorm.weight"},
      {"self_attn.v_proj.weight", "input_layernorm.weight"},
      {"self_attn.q_a_proj.weight", "input_layernorm.weight"},
      {"self_attn.kv_a_proj_with_mqa.weight", "input_layernorm.weight"},
      {"mlp.gate_proj.weight", "post_attention_layernorm.weight"},
      {"mlp.up_proj.weight", "post_attention_layernorm.weight"},
      {"mlp.experts.gate_proj.weight", "post_attention_layernorm.weight"},
      {"mlp.experts.up_proj.weight", "post_attention_layernorm.weight"},
      {"mlp.shared_experts.gate_proj.weight", "post_attention_layernorm.weight"},
      {"mlp.shared_experts.up_proj.weight", "post_attention_layernorm.weight"},
      {"mlp.router.weight", "post_attention_layernorm.weight"},
      {"mlp.shared_expert_gate.weight", "post_attention_layernorm.weight"},
      {"lm_head.weight", "norm.weight"},
      {"shared_head.head.weight", "shared_head.norm.weight"},
  };
  const auto found = norms.find(role);
  return found == norms.end() ? std::string() : prefix + std::string(found->second);
}

namespace {

// The permutation the matching recovered (B dimension per A dimension, with the sign bit of an
// entry set where B's dimension is negated), or empty when it is not significant at apply_at_z,
// not a permutation, or the identity without flips.
std::vector<std::uint32_t> recovered_order(const hidden_match_request& request, const hidden_match_result& result) {
  // Only a permutation can be undone: a narrower B (pruned width) keeps its test but no alignment.
  if (!result.usable || result.ranked < 2 || result.combined.size() != request.hidden ||
      request.hidden_b != request.hidden)
    return {};
  if (result.spearman * std::sqrt(static_cast<double>(result.ranked) - 1) < apply_at_z) return {};
  std::vector<std::uint32_t> order;
  std::vector<bool> seen(request.hidden, false);
  bool identity = true;
  for (std::size_t d = 0; d < result.combined.size(); ++d) {
    const std::int32_t j = result.combined[d];
    if (j < 0 || static_cast<std::uint64_t>(j) >= request.hidden || seen[static_cast<std::size_t>(j)]) return {};
    seen[static_cast<std::size_t>(j)] = true;
    const bool negated = d < result.negated.size() && result.negated[d] != 0;
    order.push_back(static_cast<std::uint32_t>(j) | (negated ? negated_entry : 0u));
    identity = identity && order.back() == d;
  }
  return identity ? std::vector<std::uint32_t>{} : order;
}

}  // namespace

residual_map residual_map_for(std::string_view role, std::uint64_t rows, std::uint64_t row_length,
                              const std::vector<std::uint32_t>& order) {
  residual_map map;
  const std::uint64_t hidden = order.size();
  if (hidden == 0) return map;
  switch (axis_of(role)) {
    case residual_axis::none:
      break;
    case residual_axis::columns:
      if (row_length == hidden) map.columns = order;
      break;
    case residual_axis::rows:
      if (rows == hidden) map.rows = order;
      break;
    case residual_axis::elements:  // a vector, seen as one row or as one column
      if (rows == 1 && row_length == hidden) map.columns = order;
      if (row_length == 1 && rows == hidden) map.rows = order;
      break;
    case residual_axis::norm_elements: {  // the same, without the signs: RMSNorm does not see them
      std::vector<std::uint32_t> unsigned_order;
      for (const std::uint32_t j : order) unsigned_order.push_back(index_of(j));
      if (rows == 1 && row_length == hidden) map.columns = unsigned_order;
      if (row_length == 1 && rows == hidden) map.rows = unsigned_order;
      break;
    }
    case residual_axis::rows_and_both_halves:
      if (rows == hidden) map.rows = order;
      if (row_length == 2 * hidden) {
        map.columns = order;
        for (const std::uint32_t j : order)
          map.columns.push_back(static_cast<std::uint32_t>(hidden + index_of(j)) | (j & negated_entry));
      }
      break;
  }
  return map;
}

namespace {

std::string with_pairing(const std::string& pairing, std::string_view added) {
  return pairing == "key" ? std::string(added) : pairing + ", " + std::string(added);
}

}  // namespace

std::vector<std::uint32_t> hidden_images(const work_plan& plan, std::uint64_t begin, std::uint64_t count,
                                         std::uint64_t hidden) {
  const auto& order = plan.hidden_order;
  if (order.size() != hidden || begin + count > hidden) return {};
  return {order.begin() + static_cast<std::ptrdiff_t>(begin), order.begin() + static_cast<std::ptrdiff_t>(begin + count)};
}

namespace {

// Pairs of other shapes exist only to be read through the hidden map; those it cannot read (the
// hidden unit's own tensors, which the map was chosen on) go back to the unpaired list.
void drop_unmapped_pairs(work_plan& plan) {
  std::vector<tensor_pair> kept;
  for (auto& pair : plan.pairs) {
    if (pair.a.shape == pair.b.shape || pair.rotated || !pair.rows_b.empty()) {
      kept.push_back(std::move(pair));
      continue;
    }
    const auto reason = fmt::format("shape [{}] in model A but [{}] in model B", fmt::join(pair.a.shape, ", "),
                                    fmt::join(pair.b.shape, ", "));
    plan.unpaired.push_back({'a', pair.a.name, pair.key, pair.a.type, pair.a.shape, reason});
    plan.unpaired.push_back({'b', pair.b.name, pair.key, pair.b.type, pair.b.shape, reason});
  }
  plan.pairs = std::move(kept);
}

}  // namespace

bool fits_hidden_map(const work_plan& plan, const tensor_pair& pair) {
  const auto &a = pair.a.shape, &b = pair.b.shape;
  const std::uint64_t width_b = plan.hidden_rotation_rows;
  if (width_b == 0 || a.size() != 2 || b.size() != 2 || !pair.rows_b.empty()) return false;
  const std::uint64_t width_a = plan.hidden_rotation.size() / width_b;
  switch (axis_of(pair.key.role)) {
    case residual_axis::columns: return a[0] == b[0] && a[1] == width_a && b[1] == width_b;
    case residual_axis::rows: return a[1] == b[1] && a[0] == width_a && b[0] == width_b;
    default: return false;
  }
}

void align_b(work_plan& plan) {
  // A head order was found in B's own frame: under a rotation it means nothing.
  const auto heads = plan.hidden_rotation.empty() ? applied_head_orders(plan)
                                                  : std::map<std::pair<std::string, int>, head_order>{};
  const std::vector<std::uint32_t>& order = plan.hidden_matches.empty() ? std::vector<std::uint32_t>{} : plan.hidden_order;
  if (order.empty() && heads.empty() && plan.hidden_rotation.empty()) return;
  for (auto& pair : plan.pairs) {
    const auto& shape = pair.b.shape;
    // Only tensors tested after the hidden unit: the order was chosen on the hidden unit's tensors,
    // so reading them through it would make their own test see what the matching chose.
    const bool later = pair.test_unit >= 0 && plan.units.at(static_cast<std::size_t>(pair.test_unit)).kind != "hidden";
    if (!plan.hidden_rotation.empty()) {
      pair.rotated = later && fits_hidden_map(plan, pair);
      if (pair.rotated)
        pair.pairing = with_pairing(pair.pairing, plan.hidden_rotation_rows == pair.a.shape[axis_of(pair.key.role) == residual_axis::rows ? 0 : 1]
                                                      ? "hidden rotation"
                                                      : "hidden selection");
      continue;
    }
    if (!later || shape.empty() || shape.size() > 2 || !pair.rows_b.empty() || pair.a.shape != shape) continue;
    b_alignment alignment;
    alignment.b = {pair.b.file, pair.b.byte_offset, pair.b.type};
    alignment.rows = shape.size() == 2 ? shape[0] : 1;
    alignment.row_length = shape.back();
    residual_map map = residual_map_for(pair.key.role, alignment.rows, alignment.row_length, order);
    residual_map head;
    if (const auto found = heads.find({block_prefix(pair.key.role), pair.key.layer});
        found != heads.end() && pair.key.expert < 0)
      head = head_map_for(pair.key.role, alignment.rows, alignment.row_length, found->second);
    const bool hidden_moves = !map.rows.empty() || !map.columns.empty();
    const bool heads_move = !head.rows.empty() || !head.columns.empty();
    if (!hidden_moves && !heads_move) continue;
    // The head axes (v rows, o columns) are never the residual axis of the same role.
    if (!head.rows.empty()) map.rows = std::move(head.rows);
    if (!head.columns.empty()) map.columns = std::move(head.columns);
    alignment.row_order = std::move(map.rows);
    alignment.column_order = std::move(map.columns);
    pair.alignment = static_cast<std::int32_t>(plan.alignments.size());
    plan.alignments.push_back(std::move(alignment));
    if (hidden_moves) pair.pairing = with_pairing(pair.pairing, "hidden matching");
    if (heads_move) pair.pairing = with_pairing(pair.pairing, "head matching");
  }
  drop_unmapped_pairs(plan);
}

namespace {

// With tokenizers of other vocabularies, the compared rows are a seeded run of the shared tokens'
// row pairs (ids beyond either tensor left out), so that row k of A meets the row of B that stands
// for the same token; false when there are too few.
bool compare_shared_tokens(hidden_match_request& request, const token_pairing& tokens, const std::string& role,
                           std::uint64_t seed) {
  std::vector<std::uint32_t> a, b;
  for (std::size_t k = 0; k < tokens.ids_a.size(); ++k)
    if (tokens.ids_a[k] < request.rows_a && tokens.ids_b[k] < request.rows_b) {
      a.push_back(tokens.ids_a[k]);
      b.push_back(tokens.ids_b[k]);
    }
  if (a.size() < minimum_rows) return false;
  request.row_count = std::min<std::uint64_t>(a.size(), compared_rows) / 2 * 2;
  random_stream stream(seed, "hidden matching rows", role);
  const auto first = static_cast<std::ptrdiff_t>(stream.below(a.size() - request.row_count + 1));
  const auto last = first + static_cast<std::ptrdiff_t>(request.row_count);
  request.compared_a.assign(a.begin() + first, a.begin() + last);
  request.compared_b.assign(b.begin() + first, b.begin() + last);
  request.row_begin = request.compared_a.front();
  return true;
}

}  // namespace

void plan_hidden_matches(work_plan& plan, const keyed_views& views_a, const keyed_views& views_b,
                         const null_options& options, const std::vector<hidden_match_result>* results,
                         const token_pairing* tokens) {
  if (!options.match_hidden) return;
  for (const std::string role : {"embed_tokens.weight", "lm_head.weight"}) {
    const side_view* a = single_view(views_a, role);
    const side_view* b = single_view(views_b, role);
    if (a == nullptr || b == nullptr) continue;
    const planned_tensor side_a = plan_side(*a), side_b = plan_side(*b);
    if (side_a.shape.size() != 2 || side_b.shape.size() != 2) continue;
    // Widths may differ (hidden dimensions pruned): the matching is rectangular then.
    const std::uint64_t hidden = side_a.shape[1], hidden_b = side_b.shape[1];
    // Token ids below the smaller vocabulary are shared (a vocabulary extension appends rows).
    const std::uint64_t shared = std::min(side_a.shape[0], side_b.shape[0]);
    if (hidden < 2 || hidden_b < 2 || hidden * hidden_b > max_similarity_entries) continue;
    hidden_match_request request;
    request.role = role;
    request.a = {side_a.file, side_a.byte_offset, side_a.type};
    request.b = {side_b.file, side_b.byte_offset, side_b.type};
    request.rows_a = side_a.shape[0];
    request.rows_b = side_b.shape[0];
    request.hidden = hidden;
    request.hidden_b = hidden_b;
    if (tokens != nullptr && tokens->available && !tokens->identical) {
      if (!compare_shared_tokens(request, *tokens, role, options.seed)) continue;
    } else {
      if (shared < minimum_rows) continue;
      request.row_count = std::min(shared, compared_rows) / 2 * 2;
      random_stream stream(options.seed, "hidden matching rows", role);
      request.row_begin = stream.below(shared - request.row_count + 1);
    }
    request.permutations = options.permutations_neurons;
    request.seed = mixed_job_seed(options.seed) ^ fnv1a_64("hidden matching / " + role);
    plan.hidden_matches.push_back(std::move(request));
    break;
  }
  if (results == nullptr) return;
  if (results->size() != plan.hidden_matches.size())
    throw internal_error("plan_hidden_matches: one result per planned unit expected");
  plan.hidden_matching = *results;
  if (plan.hidden_matches.empty()) return;
  const auto& request = plan.hidden_matches.front();
  const auto& result = results->front();
  // A permutation is a rotation too: one that explains the held-out rows clearly better than the
  // permutation (a rotated model whose columns agree on a spurious permutation) wins over it.
  plan.hidden_order = recovered_order(request, result);
  if (applies_rotation(request, result)) {
    plan.hidden_order.clear();
    plan.hidden_rotation = result.rotation;
    plan.hidden_rotation_rows = request.hidden_b;
  } else if (request.hidden != request.hidden_b) {
    plan.hidden_rotation = selection_map(request, result);
    plan.hidden_rotation_rows = plan.hidden_rotation.empty() ? 0 : request.hidden_b;
  }
}

}  // namespace lineage
