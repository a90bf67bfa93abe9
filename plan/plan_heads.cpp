// The planner's part in attention-head matching: one unit per attention layer both models have with
// the same head layout, and the head order applied to B's q/k/v/o when the matching passes the
// gate. See shard/head_match.hpp.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "plan/plan_views.hpp"

namespace lineage {
namespace {

constexpr std::uint64_t compared_columns = 1024;  // hidden dimensions compared per head row

struct attention_tensors {
  const side_view *q = nullptr, *k = nullptr, *v = nullptr, *o = nullptr;
};

constexpr std::string_view attention_stem = "self_attn.";

// (block prefix, layer) → one side's four projections.
std::map<std::pair<std::string, int>, attention_tensors> attention_of(const keyed_views& views) {
  std::map<std::pair<std::string, int>, attention_tensors> layers;
  for (const auto& [key, list] : views) {
    if (key.layer < 0 || key.expert >= 0 || list.size() != 1) continue;
    const std::string prefix = block_prefix(key.role);
    std::string_view role(key.role);
    role.remove_prefix(prefix.size());
    if (!role.starts_with(attention_stem)) continue;
    role.remove_prefix(attention_stem.size());
    auto& layer = layers[{prefix, key.layer}];
    if (role == "q_proj.weight") layer.q = &list.front();
    else if (role == "k_proj.weight") layer.k = &list.front();
    else if (role == "v_proj.weight") layer.v = &list.front();
    else if (role == "o_proj.weight") layer.o = &list.front();
  }
  return layers;
}

}  // namespace

std::pair<std::uint64_t, std::uint64_t> head_counts(const std::string& config_json) {
  const nlohmann::json config = nlohmann::json::parse(config_json, nullptr, false);
  const auto count = [&](const char* key) -> std::uint64_t {
    if (!config.is_object()) return 0;
    const auto found = config.find(key);
    return found != config.end() && found->is_number_unsigned() ? found->get<std::uint64_t>() : 0;
  };
  const std::uint64_t heads = count("num_attention_heads");
  const bool has_kv = config.is_object() && config.contains("num_key_value_heads");
  return {heads, has_kv ? count("num_key_value_heads") : heads};
}

namespace {

// The layout of one layer, when every shape fits heads·d rows of q, kv_heads·d of k and v, and
// o_proj [hidden, heads·d]: {head_dim, hidden}, else nullopt.
std::optional<std::pair<std::uint64_t, std::uint64_t>> layout_of(const attention_tensors& t, std::uint64_t heads,
                                                                 std::uint64_t kv_heads) {
  if (!t.q || !t.k || !t.v || !t.o) return std::nullopt;
  const auto q = plan_side(*t.q).shape, k = plan_side(*t.k).shape, v = plan_side(*t.v).shape,
             o = plan_side(*t.o).shape;
  if (q.size() != 2 || k != v || k.size() != 2 || o.size() != 2 || q[0] % heads != 0) return std::nullopt;
  const std::uint64_t head_dim = q[0] / heads, hidden = q[1];
  if (head_dim == 0 || hidden == 0 || k[0] != kv_heads * head_dim || k[1] != hidden || o[0] != hidden ||
      o[1] != q[0])
    return std::nullopt;
  return std::pair{head_dim, hidden};
}

bool same_shapes(const attention_tensors& a, const attention_tensors& b) {
  for (const auto& [x, y] : {std::pair{a.q, b.q}, {a.k, b.k}, {a.v, b.v}, {a.o, b.o}})
    if (plan_side(*x).shape != plan_side(*y).shape) return false;
  return true;
}

// Rows of `heads` blocks of head_dim, block j of B's at A's block j's position.
std::vector<std::uint32_t> expand(const std::vector<std::int32_t>& heads, std::uint64_t head_dim) {
  std::vector<std::uint32_t> rows;
  for (const std::int32_t h : heads)
    for (std::uint64_t r = 0; r < head_dim; ++r) rows.push_back(static_cast<std::uint32_t>(h * head_dim + r));
  return rows;
}

void add_head_units(work_plan& plan, const keyed_views& views_a, const keyed_views& views_b,
                    const null_options& options) {
  const auto [heads, kv_heads] = head_counts(plan.model_a.config_json);
  if (std::pair{heads, kv_heads} != head_counts(plan.model_b.config_json) || heads < 2 || kv_heads < 1 ||
      heads % kv_heads != 0)
    return;
  const auto layers_b = attention_of(views_b);
  for (const auto& [where, a] : attention_of(views_a)) {
    const auto found = layers_b.find(where);
    if (found == layers_b.end()) continue;
    const auto layout = layout_of(a, heads, kv_heads);
    if (!layout || !layout_of(found->second, heads, kv_heads) || !same_shapes(a, found->second)) continue;
    const auto& b = found->second;
    head_match_request request;
    request.layer = where.second;
    request.prefix = where.first;
    request.q_a = location_of(*a.q);
    request.k_a = location_of(*a.k);
    request.v_a = location_of(*a.v);
    request.o_a = location_of(*a.o);
    request.q_b = location_of(*b.q);
    request.k_b = location_of(*b.k);
    request.v_b = location_of(*b.v);
    request.o_b = location_of(*b.o);
    request.heads = heads;
    request.kv_heads = kv_heads;
    std::tie(request.head_dim, request.hidden) = *layout;
    request.column_count = std::min(request.hidden, compared_columns);
    const std::string label = fmt::format("{}layer {}", where.first, where.second);
    random_stream stream(options.seed, "head matching columns", label);
    request.column_begin = stream.below(request.hidden - request.column_count + 1);
    // B's images of the compared dimensions under a recovered hidden-dimension permutation.
    request.columns_b = hidden_images(plan, request.column_begin, request.column_count, request.hidden);
    request.permutations = options.permutations_heads;
    request.seed = mixed_job_seed(options.seed) ^ fnv1a_64("head matching / " + label);
    plan.head_matches.push_back(std::move(request));
  }
}

}  // namespace

std::optional<head_order> applied_head_order(const head_match_request& request, const head_match_result& result) {
  const std::size_t heads = request.heads, kv = request.kv_heads;
  if (!result.usable || kv == 0 || heads % kv != 0 || result.by_q.size() != heads || result.by_k.size() != kv)
    return std::nullopt;
  const auto is_permutation = [](const std::vector<std::int32_t>& map) {
    std::vector<bool> seen(map.size(), false);
    for (const std::int32_t b : map) {
      if (b < 0 || static_cast<std::size_t>(b) >= map.size() || seen[static_cast<std::size_t>(b)]) return false;
      seen[static_cast<std::size_t>(b)] = true;
    }
    return true;
  };
  if (!is_permutation(result.by_q) || !is_permutation(result.by_k)) return std::nullopt;
  bool identity = true;
  for (std::size_t h = 0; h < heads; ++h) identity = identity && static_cast<std::size_t>(result.by_q[h]) == h;
  for (std::size_t j = 0; j < kv; ++j) identity = identity && static_cast<std::size_t>(result.by_k[j]) == j;
  if (identity) return std::nullopt;
  return head_order{expand(result.by_q, request.head_dim), expand(result.by_k, request.head_dim)};
}

std::map<std::pair<std::string, int>, head_order> applied_head_orders(const work_plan& plan) {
  std::map<std::pair<std::string, int>, head_order> orders;
  for (std::size_t i = 0; i < plan.head_applied.size(); ++i)
    if (plan.head_applied[i] != 0) {
      const auto& request = plan.head_matches.at(i);
      if (auto order = applied_head_order(request, plan.head_matching.at(i)))
        orders.emplace(std::pair{request.prefix, request.layer}, std::move(*order));
    }
  return orders;
}

residual_map head_map_for(std::string_view role, std::uint64_t rows, std::uint64_t row_length,
                          const head_order& order) {
  residual_map map;
  role.remove_prefix(block_prefix(role).size());
  if (!role.starts_with(attention_stem)) return map;
  role.remove_prefix(attention_stem.size());
  // Only the values unit's tensors: q and k chose the order, and their own test (the heads unit)
  // permutes whole heads, which an order chosen on them would defeat.
  const std::vector<std::uint32_t>& heads = order.key_value;
  if (role == "o_proj.weight") {
    if (row_length == order.query.size()) map.columns = order.query;
  } else if (role == "v_proj.weight") {
    if (rows == heads.size()) map.rows = heads;
  } else if (role == "v_proj.bias") {  // a vector: one row
    if (rows == 1 && row_length == heads.size()) map.columns = heads;
  }
  return map;
}

void plan_head_matches(work_plan& plan, const keyed_views& views_a, const keyed_views& views_b,
                       const null_options& options, const std::vector<head_match_result>* results) {
  if (options.match_heads && options.permutations_heads > 0) add_head_units(plan, views_a, views_b, options);
  if (results == nullptr) return;
  if (results->size() != plan.head_matches.size())
    throw internal_error(fmt::format("head matching: {} results for {} units", results->size(),
                                     plan.head_matches.size()));
  plan.head_matching = *results;
  plan.head_applied.assign(results->size(), 0);
  for (std::size_t i = 0; i < results->size(); ++i) {
    if ((*results)[i].request != i)
      throw internal_error(fmt::format("head matching: result {} is for unit {}", i, (*results)[i].request));
    plan.head_applied[i] = applied_head_order(plan.head_matches[i], (*results)[i]).has_value();
  }
}

}  // namespace lineage
