#include "plan/plan_views.hpp"

#include <algorithm>

#include "core/random_stream.hpp"

namespace lineage {

// One layer × layer unit per role that has one tensor per layer, the same shape everywhere and at
// least two layers on each side. Routed experts are left to expert matching.
void plan_cross_layers(work_plan& plan, const keyed_views& views_a, const keyed_views& views_b,
                       std::uint64_t seed) {
  struct role_layers {
    std::map<int, planned_tensor> a, b;
    bool usable = true;
  };
  std::map<std::string, role_layers> by_role;
  const auto collect = [&](const keyed_views& views, bool side_a) {
    for (const auto& [key, list] : views) {
      if (key.layer < 0 || key.expert >= 0) continue;
      auto& entry = by_role[key.role];
      if (list.size() != 1) {
        entry.usable = false;
        continue;
      }
      (side_a ? entry.a : entry.b)[key.layer] = plan_side(list.front());
    }
  };
  collect(views_a, true);
  collect(views_b, false);
  for (const auto& [role, entry] : by_role) {
    if (!entry.usable || entry.a.size() < 2 || entry.b.size() < 2) continue;
    const auto& shape = entry.a.begin()->second.shape;
    bool same_shape = true;
    for (const auto* side : {&entry.a, &entry.b})
      for (const auto& [layer, tensor] : *side) same_shape = same_shape && tensor.shape == shape;
    if (!same_shape || entry.a.begin()->second.elements == 0) continue;
    cross_layer_request request;
    request.role = role;
    for (const auto& [layer, tensor] : entry.a) {
      request.layers_a.push_back(layer);
      request.a.push_back({tensor.file, tensor.byte_offset, tensor.type});
    }
    for (const auto& [layer, tensor] : entry.b) {
      request.layers_b.push_back(layer);
      request.b.push_back({tensor.file, tensor.byte_offset, tensor.type});
    }
    std::tie(request.rows, request.row_length) = unit_shape(entry.a.begin()->second);
    const std::uint64_t wanted = std::max<std::uint64_t>(1, cross_layer_sample_elements / request.row_length);
    if (wanted >= request.rows) {
      for (std::uint64_t r = 0; r < request.rows; ++r) request.sampled_rows.push_back(static_cast<std::uint32_t>(r));
    } else {
      // The first `wanted` entries of a random permutation: a sample without replacement.
      std::vector<std::uint32_t> order(request.rows);
      random_stream stream(seed, "cross-layer rows", role);
      random_permutation(stream, order);
      request.sampled_rows.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(wanted));
      std::sort(request.sampled_rows.begin(), request.sampled_rows.end());
    }
    // B read through a recovered hidden-dimension permutation, as the blocks are.
    residual_map map = residual_map_for(role, request.rows, request.row_length, plan.hidden_order);
    for (const std::uint32_t r : request.sampled_rows)
      if (!map.rows.empty()) request.rows_b.push_back(map.rows[r]);
    request.columns_b = std::move(map.columns);
    plan.cross_layers.push_back(std::move(request));
  }
}

}  // namespace lineage
