// The null requests of the test units chosen by plan_symmetry.cpp: each unit's group (plain
// permutations, heads with their KV groups, or dimensions inside heads), its draws and seed, and
// for each member the geometry of the axis it permutes.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "plan/plan_views.hpp"

namespace lineage {
namespace {

// Cross products a null from products may hold (doubles, twice: products and directions).
constexpr std::uint64_t max_product_entries = std::uint64_t{1} << 23;

using role = axis_layout::role;

// A pair's null geometry, before its unit's group is known.
null_request base_request(const tensor_pair& pair, std::uint32_t index) {
  null_request request;
  request.pair = index;
  request.a = {pair.a.file, pair.a.byte_offset, pair.a.type};
  request.b = {pair.b.file, pair.b.byte_offset, pair.b.type};
  const auto& shape = pair.a.shape;
  request.rows = shape.size() >= 2 ? shape[0] : 1;
  request.row_length = 1;
  for (std::size_t d = shape.size() >= 2 ? 1 : 0; d < shape.size(); ++d) request.row_length *= shape[d];
  request.axis = shape.size() == 1 ? 1 : static_cast<std::uint8_t>(pair.test_axis);
  request.inner = 1;
  if (request.axis == 1)
    for (std::size_t d = 2; d < shape.size(); ++d) request.inner *= shape[d];
  request.exclude_begin = pair.exclude_begin;
  request.exclude_end = pair.exclude_end;
  if (pair.rotated) {
    request.rotate = axis_of(pair.key.role) == residual_axis::columns ? 1 : 2;
    request.rotated_rows_b = pair.b.shape.at(0);
    request.rotated_row_length_b = pair.b.shape.at(1);
  }
  if (!pair.rows_a.empty()) {
    request.rows_a = pair.rows_a;
    request.rows_b = pair.rows_b;
    request.tensor_rows_a = pair.a.shape.front();
    request.tensor_rows_b = pair.b.shape.front();
  }
  return request;
}

// The B head (KV head) whose inside permutation each block of a value or output axis takes, when
// the layer's v/o are read in a recovered head order; empty when they are in their own order.
std::vector<std::uint32_t> head_components(const std::vector<std::uint32_t>& order, std::uint64_t block,
                                           std::uint64_t per_component) {
  std::vector<std::uint32_t> components;
  if (order.empty() || block == 0 || order.size() % block != 0) return components;
  for (std::size_t b = 0; b < order.size() / block; ++b)
    components.push_back(static_cast<std::uint32_t>(index_of(order[b * block]) / block / per_component));
  return components;
}

struct unit_builder {
  work_plan& plan;
  const null_options& options;
  bool rope;
  std::map<std::pair<std::string, int>, head_order> head_orders;

  void untest(tensor_pair& pair, std::string reason) const {
    pair.test_axis = -1;
    pair.test_unit = -1;
    pair.untested = std::move(reason);
  }

  // The group of a heads or values unit and each member's layout; members that do not fit lose
  // their test.
  bool head_group(symmetry_unit& unit, std::vector<null_request>& requests) const;
  void build(symmetry_unit& unit, std::vector<std::uint32_t> members);
  [[nodiscard]] bool cyclic_draws(const symmetry_unit& unit, const std::vector<null_request>& members, bool all_cheap,
                                  std::uint32_t k_default) const;
  [[nodiscard]] static bool products_cheaper(null_request request);
};

bool unit_builder::head_group(symmetry_unit& unit, std::vector<null_request>& requests) const {
  const auto [heads, kv] = head_counts(plan.model_a.config_json);
  if (std::pair{heads, kv} != head_counts(plan.model_b.config_json) || heads < 1 || kv < 1 || heads % kv != 0)
    return false;
  const bool values = unit.kind == "values";
  unit.group.kind = values ? symmetry_group::form::within : symmetry_group::form::heads;
  unit.group.kv_heads = kv;
  unit.group.group = heads / kv;
  std::uint64_t within = 0;
  for (auto& request : requests) {
    const tensor_pair& pair = plan.pairs[request.pair];
    const axis_kind kind = pair.axes[static_cast<std::size_t>(pair.test_axis)];
    const bool query = kind == axis_kind::query || kind == axis_kind::output;
    request.layout.kind = query ? role::query : role::key_value;
    const std::uint64_t blocks = query ? heads : kv;
    request.layout.block_size = request.units() % blocks == 0 ? request.units() / blocks : 0;
    if (values || !rope) within = within == 0 ? request.layout.block_size : std::min(within, request.layout.block_size);
    if (!values) continue;
    const auto order = head_orders.find({block_prefix(pair.key.role), pair.key.layer});
    if (order == head_orders.end()) continue;
    request.layout.block_component = query ? head_components(order->second.query, request.layout.block_size, heads / kv)
                                           : head_components(order->second.key_value, request.layout.block_size, 1);
  }
  unit.group.within = within;
  return true;
}

void unit_builder::build(symmetry_unit& unit, std::vector<std::uint32_t> members) {
  std::vector<null_request> requests;
  for (const std::uint32_t p : members) requests.push_back(base_request(plan.pairs[p], p));
  const bool heads = unit.kind == "heads" || unit.kind == "values";
  if (heads && !head_group(unit, requests)) {
    for (const std::uint32_t p : members)
      untest(plan.pairs[p], "config.json does not give both models the same num_attention_heads and "
                            "num_key_value_heads, so heads cannot be told apart");
    return;
  }
  if (!heads) unit.group = {symmetry_group::form::plain, requests.front().tested_units(), 0, 1, 0};
  std::uint32_t k_default = 0;
  std::vector<null_request> kept;
  for (auto& request : requests) {
    if (!fits(unit.group, request.layout, request.tested_units())) {
      untest(plan.pairs[request.pair], fmt::format("its axis does not fit the symmetry of its unit ({})", unit.label));
      continue;
    }
    const bool matrix = request.slice_elements() > 1;
    k_default = std::max(k_default, matrix ? options.permutations_matrix : options.permutations_vector);
    request.group = unit.group;  // what a null from products needs depends on the group
    kept.push_back(std::move(request));
  }
  if (kept.empty()) return;
  if (k_default == 0) {
    for (const auto& request : kept) untest(plan.pairs[request.pair], "no permutations drawn");
    return;
  }
  // From products when that costs little more than the direct K draws; then many draws are cheap.
  const auto cheap = [&](const null_request& r) {
    const std::uint64_t entries = product_entries(r);
    return entries <= max_product_entries && entries <= 2 * (k_default + 1ull) * r.tested_units();
  };
  const bool all_cheap = std::all_of(kept.begin(), kept.end(), cheap);
  unit.permutations = all_cheap ? std::max(k_default, options.permutations_products) : k_default;
  unit.seed = mixed_job_seed(options.seed) ^ fnv1a_64("symmetry unit / " + unit.label);
  const bool cyclic = cyclic_draws(unit, kept, all_cheap, k_default);
  if (cyclic) {
    unit.group.kind = symmetry_group::form::cyclic;
    unit.permutations = static_cast<std::uint32_t>(std::min<std::uint64_t>(unit.permutations, unit.group.units - 1));
  }
  for (auto& request : kept) {
    request.group = unit.group;
    request.permutations = unit.permutations;
    request.seed = unit.seed;
    request.from_products = cyclic ? products_cheaper(request) : all_cheap || cheap(request);
    unit.members.push_back(static_cast<std::uint32_t>(plan.nulls.size()));
    plan.nulls.push_back(std::move(request));
  }
}

// Whether a plain unit draws from its cyclic subgroup (null_draws): automatically when it has K
// shifts to draw and computing every shift of its members costs less than their K direct passes.
bool unit_builder::cyclic_draws(const symmetry_unit& unit, const std::vector<null_request>& members, bool all_cheap,
                                std::uint32_t k_default) const {
  // Up to 2³⁰ units (the transforms' int sizes); a longer axis draws random permutations.
  if (unit.group.kind != symmetry_group::form::plain || unit.group.units < 2 || unit.group.units > (1u << 30))
    return false;
  switch (options.draws) {
    case null_draws::random: return false;
    case null_draws::cyclic: return true;
    case null_draws::automatic: break;
  }
  if (all_cheap || unit.group.units - 1 < k_default) return false;
  std::uint64_t direct = 0, shifts = 0;
  for (null_request request : members) {
    request.permutations = k_default;
    request.from_products = false;
    direct += request.cost();
    request.group.kind = symmetry_group::form::cyclic;
    shifts += request.cost();
  }
  return shifts < direct;
}

// A cyclic member's null from cross products when they fit and cost less than the transforms.
bool unit_builder::products_cheaper(null_request request) {
  if (product_entries(request) > max_product_entries) return false;
  request.from_products = true;
  const std::uint64_t products = request.cost();
  request.from_products = false;
  return products < request.cost();
}

// Axis-0 matrices that read a norm fold their rows with it for the direction statistic.
void add_norm_folds(work_plan& plan) {
  std::map<tensor_key, std::uint32_t> pair_of;
  for (std::size_t p = 0; p < plan.pairs.size(); ++p) pair_of[plan.pairs[p].key] = static_cast<std::uint32_t>(p);
  for (auto& request : plan.nulls) {
    if (request.axis != 0 || request.row_length < 2) continue;
    const tensor_pair& pair = plan.pairs[request.pair];
    const std::string norm = norm_read_by(pair.key.role);
    if (norm.empty()) continue;
    const auto found = pair_of.find({pair.key.layer, norm, -1});
    if (found == pair_of.end()) continue;
    const std::vector<std::uint64_t> vector_shape{request.row_length};
    const auto& norm_pair = plan.pairs[found->second];
    if (norm_pair.a.shape == vector_shape && norm_pair.b.shape == vector_shape) request.norm_pair = found->second;
  }
}

}  // namespace

void plan_symmetry_nulls(work_plan& plan, const null_options& options, bool rope) {
  plan.nulls.clear();
  unit_builder builder{plan, options, rope, applied_head_orders(plan)};
  std::vector<std::vector<std::uint32_t>> members(plan.units.size());
  for (std::size_t p = 0; p < plan.pairs.size(); ++p)
    if (plan.pairs[p].test_unit >= 0) members.at(static_cast<std::size_t>(plan.pairs[p].test_unit)).push_back(static_cast<std::uint32_t>(p));
  for (std::size_t u = 0; u < plan.units.size(); ++u) {
    plan.units[u].members.clear();
    if (!members[u].empty()) builder.build(plan.units[u], std::move(members[u]));
  }
  // Units left without members go; the pairs keep pointing at theirs.
  std::vector<std::int32_t> renumbered(plan.units.size(), -1);
  std::vector<symmetry_unit> kept;
  for (std::size_t u = 0; u < plan.units.size(); ++u)
    if (!plan.units[u].members.empty()) {
      renumbered[u] = static_cast<std::int32_t>(kept.size());
      kept.push_back(std::move(plan.units[u]));
    }
  plan.units = std::move(kept);
  for (auto& pair : plan.pairs)
    if (pair.test_unit >= 0) pair.test_unit = renumbered[static_cast<std::size_t>(pair.test_unit)];
  add_norm_folds(plan);
}

}  // namespace lineage
