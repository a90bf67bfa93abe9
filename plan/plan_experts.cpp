// The planner's part in expert matching: one unit per MoE layer, and the pairing that follows
// from its result (see shard/expert_match.hpp for the statistics).
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "plan/plan_views.hpp"

namespace lineage {
namespace {

// Elements each role contributes to an expert's sample, and the most neurons they span. The sample
// is one run of neurons, the same in every role (rows of gate/up, columns of down) and expert: the
// matched experts' own tests then permute the other neurons only, a symmetry the matching never
// looked at, so they stay exact. At most a quarter of the neurons is sampled.
constexpr std::uint64_t sample_elements_per_role = 4096;
constexpr std::uint64_t max_sampled_rows = 64;

// down_proj holds its neurons in columns; the other expert roles in rows.
bool neurons_in_columns(std::string_view role) { return role.ends_with("down_proj.weight"); }

// One side of one layer: role → expert → its single view.
using layer_roles = std::map<std::string, std::map<int, const side_view*>>;

// A layer of the main stack or of the MTP blocks (which are numbered from 0 too).
using block_layer = std::pair<std::string, int>;  // (role prefix, layer)

bool in_block(const tensor_key& key, const block_layer& where) {
  return key.layer == where.second && block_prefix(key.role) == where.first;
}

std::map<block_layer, layer_roles> experts_by_layer(const keyed_views& views) {
  std::map<block_layer, layer_roles> layers;
  for (const auto& [key, list] : views)
    if (key.layer >= 0 && key.expert >= 0 && list.size() == 1)
      layers[{block_prefix(key.role), key.layer}][key.role][key.expert] = &list.front();
  return layers;
}

// The experts of `roles` that have every one of `usable` roles.
std::vector<std::int32_t> complete_experts(const layer_roles& roles, const std::vector<std::string>& usable) {
  std::set<int> all;
  for (const auto& role : usable)
    for (const auto& [expert, view] : roles.at(role)) all.insert(expert);
  std::vector<std::int32_t> complete;
  for (const int expert : all)
    if (std::all_of(usable.begin(), usable.end(), [&](const std::string& role) { return roles.at(role).contains(expert); }))
      complete.push_back(expert);
  return complete;
}

bool same_matrix_shape(const std::map<int, const side_view*>& experts, const std::vector<std::uint64_t>& shape) {
  return std::all_of(experts.begin(), experts.end(), [&](const auto& entry) { return plan_side(*entry.second).shape == shape; });
}

void add_unpaired_experts(work_plan& plan, keyed_views& views, char side, const block_layer& where,
                          const std::set<int>& experts, const std::string& reason) {
  for (auto it = views.begin(); it != views.end();) {
    if (in_block(it->first, where) && it->first.expert >= 0 && experts.contains(it->first.expert)) {
      for (const auto& v : it->second) plan.unpaired.push_back(unpaired(side, v, reason));
      it = views.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace

bool is_router_role(std::string_view role) noexcept { return role.find("mlp.router.") != std::string_view::npos; }

std::string block_prefix(std::string_view role) { return role.starts_with("mtp.") ? "mtp." : ""; }

std::string block_text(const std::string& prefix, int layer) {
  return prefix.empty() ? fmt::format("layer {}", layer) : fmt::format("MTP block {}", layer);
}

void plan_expert_matches(work_plan& plan, const keyed_views& views_a, const keyed_views& views_b,
                         const null_options& options) {
  if (options.permutations_experts == 0) return;
  const std::uint64_t job_seed = mixed_job_seed(options.seed);
  const auto layers_a = experts_by_layer(views_a);
  const auto layers_b = experts_by_layer(views_b);
  for (const auto& [where, roles_a] : layers_a) {
    const auto found = layers_b.find(where);
    if (found == layers_b.end()) continue;
    const layer_roles& roles_b = found->second;
    const auto& [prefix, layer] = where;
    expert_match_request request;
    request.layer = layer;
    request.role_prefix = prefix;
    std::vector<std::string> usable;
    // The sampled neurons: one run, from the layer's seed, in every role.
    std::uint64_t neurons = 0;
    for (const auto& [role, experts_a] : roles_a) {
      const auto shape = plan_side(*experts_a.begin()->second).shape;
      if (shape.size() == 2) neurons = neurons == 0 ? shape[neurons_in_columns(role) ? 1 : 0] : neurons;
    }
    const std::uint64_t sampled = std::min(max_sampled_rows, neurons / 4);
    random_stream neuron_stream(options.seed, "expert sample", block_text(prefix, layer));
    const std::uint64_t first_neuron = sampled < 2 ? 0 : neuron_stream.below(neurons - sampled + 1);
    for (const auto& [role, experts_a] : roles_a) {
      const auto other = roles_b.find(role);
      if (other == roles_b.end() || sampled < 2) continue;
      const auto shape = plan_side(*experts_a.begin()->second).shape;
      const bool columns = neurons_in_columns(role);
      if (shape.size() != 2 || shape[columns ? 1 : 0] != neurons || shape[columns ? 0 : 1] == 0) continue;
      if (!same_matrix_shape(experts_a, shape) || !same_matrix_shape(other->second, shape)) continue;
      expert_sample_block block;
      block.role = role;
      block.rows = shape[0];
      block.row_length = shape[1];
      const std::uint64_t hidden = shape[columns ? 0 : 1];
      const std::uint64_t hidden_count = std::min(hidden, std::max<std::uint64_t>(1, sample_elements_per_role / sampled));
      random_stream stream(options.seed, "expert sample", fmt::format("{} / {}", block_text(prefix, layer), role));
      const std::uint64_t hidden_begin = stream.below(hidden - hidden_count + 1);
      block.row_begin = columns ? hidden_begin : first_neuron;
      block.row_count = columns ? hidden_count : sampled;
      block.column_begin = columns ? first_neuron : hidden_begin;
      block.column_count = columns ? sampled : hidden_count;
      // B read through a recovered hidden-dimension permutation, as the blocks are.
      const residual_map map = residual_map_for(role, block.rows, block.row_length, plan.hidden_order);
      if (!map.rows.empty())
        block.rows_b.assign(map.rows.begin() + static_cast<std::ptrdiff_t>(block.row_begin),
                            map.rows.begin() + static_cast<std::ptrdiff_t>(block.row_begin + block.row_count));
      if (!map.columns.empty())
        block.columns_b.assign(map.columns.begin() + static_cast<std::ptrdiff_t>(block.column_begin),
                               map.columns.begin() + static_cast<std::ptrdiff_t>(block.column_begin + block.column_count));
      request.blocks.push_back(block);
      usable.push_back(role);
    }
    if (usable.empty()) continue;
    request.experts_a = complete_experts(roles_a, usable);
    request.experts_b = complete_experts(roles_b, usable);
    if (request.experts_a.size() < 2 || request.experts_b.size() < 2) continue;
    for (const auto* side : {&request.experts_a, &request.experts_b}) {
      const layer_roles& roles = side == &request.experts_a ? roles_a : roles_b;
      auto& locations = side == &request.experts_a ? request.a : request.b;
      for (const std::int32_t expert : *side)
        for (const auto& role : usable) {
          const planned_tensor t = plan_side(*roles.at(role).at(expert));
          locations.push_back({t.file, t.byte_offset, t.type});
        }
    }
    request.permutations = options.permutations_experts;
    request.seed = job_seed ^ fnv1a_64(fmt::format("expert matching / {}", block_text(prefix, layer)));
    plan.expert_matches.push_back(std::move(request));
  }
}

expert_pairing apply_expert_matching(work_plan& plan, const std::vector<expert_match_result>& results,
                                     keyed_views& views_a, keyed_views& views_b) {
  if (results.size() != plan.expert_matches.size())
    throw internal_error(fmt::format("expert matching: {} results for {} units", results.size(),
                                     plan.expert_matches.size()));
  plan.expert_matching = results;
  expert_pairing pairing;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& request = plan.expert_matches[i];
    const auto& result = results[i];
    if (result.request != i) throw internal_error(fmt::format("expert matching: result {} is for unit {}", i, result.request));
    if (!result.usable) continue;
    const block_layer where{request.role_prefix, request.layer};
    const auto counts = fmt::format("model A has {} experts in {}, model B {}", request.experts_a.size(),
                                    block_text(request.role_prefix, request.layer), request.experts_b.size());
    std::map<int, int> a_of_b;
    std::set<int> unmatched_a, unmatched_b(request.experts_b.begin(), request.experts_b.end());
    for (std::size_t e = 0; e < request.experts_a.size(); ++e) {
      const std::int32_t f = result.matched_b.at(e);
      if (f < 0) {
        unmatched_a.insert(request.experts_a[e]);
        continue;
      }
      a_of_b[request.experts_b.at(static_cast<std::size_t>(f))] = request.experts_a[e];
      unmatched_b.erase(request.experts_b[static_cast<std::size_t>(f)]);
    }
    // Experts that lack one of the matched roles take no part in the matching or the pairing.
    for (const auto& [key, list] : views_a)
      if (in_block(key, where) && key.expert >= 0 &&
          !std::binary_search(request.experts_a.begin(), request.experts_a.end(), key.expert))
        unmatched_a.insert(key.expert);
    for (const auto& [key, list] : views_b)
      if (in_block(key, where) && key.expert >= 0 &&
          !std::binary_search(request.experts_b.begin(), request.experts_b.end(), key.expert))
        unmatched_b.insert(key.expert);
    add_unpaired_experts(plan, views_a, 'a', where, unmatched_a, "not matched to an expert of model B (" + counts + ")");
    add_unpaired_experts(plan, views_b, 'b', where, unmatched_b, "not matched to an expert of model A (" + counts + ")");
    // B's matched experts take the key of the A expert they matched.
    std::vector<std::pair<tensor_key, std::vector<side_view>>> moved;
    for (auto it = views_b.begin(); it != views_b.end();) {
      const auto target = a_of_b.find(it->first.expert);
      if (in_block(it->first, where) && it->first.expert >= 0 && target != a_of_b.end()) {
        tensor_key key = it->first;
        key.expert = target->second;
        moved.emplace_back(key, std::move(it->second));
        it = views_b.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [key, list] : moved) views_b[key] = std::move(list);
    // The sampled neurons (units of each role's neuron axis) stay out of the matched pairs' tests.
    for (const auto& block : request.blocks) {
      const bool columns = neurons_in_columns(block.role);
      const std::uint64_t begin = columns ? block.column_begin : block.row_begin;
      pairing.excluded_rows[{request.layer, block.role}] = {begin, begin + (columns ? block.column_count : block.row_count)};
    }
  }
  return pairing;
}

}  // namespace lineage
