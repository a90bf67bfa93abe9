// The planner's part in neuron matching: one unit per MLP (dense MLPs, shared experts, and those of
// MTP blocks) that both models have with compatible shapes. See shard/neuron_match.hpp.
#include <fmt/format.h>

#include <algorithm>

#include "core/random_stream.hpp"
#include "plan/plan_views.hpp"

namespace lineage {
namespace {

// Hidden dimensions compared per neuron, and the largest similarity matrix a dense unit may hold
// (matched × neurons_b doubles; three of that size are alive at once).
constexpr std::uint64_t compared_columns = 1024;
constexpr std::uint64_t max_similarity_entries = std::uint64_t{1} << 27;
// Wider MLPs (issue 20, docs/CALIBRATION.md "Neuron matching of wide MLPs"): A's neurons matched
// (Spearman's z = ρ √(m − 1): a 20 % agreement of the two matchings gives z ≈ 4.5 at 512), and
// above `dense_neurons` on either side, 16 candidates per neuron and role from a coarse Pearson
// over 512 of the compared dimensions, the exact similarities and the assignments on those only
// (bench_neuron_match: the same ρ as the dense matching at drifts 0.5 to 16, 256 lost 0.05 at 8).
constexpr std::uint64_t matched_neurons = 512;
constexpr std::uint64_t dense_neurons = 1024;
constexpr std::uint64_t coarse_columns = 512;
constexpr std::uint64_t candidates_per_role = 16;

constexpr std::string_view gate_suffix = "gate_proj.weight";

struct mlp_tensors {
  const side_view *gate = nullptr, *up = nullptr, *down = nullptr;
};

// (layer, group stem) → the three tensors of one side's MLP; routed experts are left out.
std::map<std::pair<int, std::string>, mlp_tensors> mlps_of(const keyed_views& views) {
  std::map<std::pair<int, std::string>, mlp_tensors> mlps;
  for (const auto& [key, list] : views) {
    if (key.layer < 0 || key.expert >= 0 || list.size() != 1 || !key.role.ends_with("_proj.weight")) continue;
    for (const std::string_view part : {"gate_proj.weight", "up_proj.weight", "down_proj.weight"}) {
      if (!key.role.ends_with(part)) continue;
      const std::string stem = key.role.substr(0, key.role.size() - part.size());
      if (!stem.ends_with("mlp.") && !stem.ends_with("shared_experts.")) continue;
      auto& mlp = mlps[{key.layer, stem}];
      (part == gate_suffix ? mlp.gate : part == "up_proj.weight" ? mlp.up : mlp.down) = &list.front();
    }
  }
  return mlps;
}

// [neurons, hidden] for gate and up, [hidden, neurons] for down; nullopt when they do not fit.
std::optional<std::pair<std::uint64_t, std::uint64_t>> neurons_and_hidden(const mlp_tensors& mlp) {
  if (!mlp.gate || !mlp.up || !mlp.down) return std::nullopt;
  const auto gate = plan_side(*mlp.gate).shape, up = plan_side(*mlp.up).shape, down = plan_side(*mlp.down).shape;
  if (gate.size() != 2 || gate != up || down.size() != 2 || down[0] != gate[1] || down[1] != gate[0])
    return std::nullopt;
  return std::pair{gate[0], gate[1]};
}

}  // namespace

void plan_neuron_matches(work_plan& plan, const keyed_views& views_a, const keyed_views& views_b,
                         const null_options& options) {
  if (!options.match_neurons) return;
  const std::uint64_t job_seed = mixed_job_seed(options.seed);
  const auto mlps_b = mlps_of(views_b);
  for (const auto& [where, mlp_a] : mlps_of(views_a)) {
    const auto found = mlps_b.find(where);
    if (found == mlps_b.end()) continue;
    const auto shape_a = neurons_and_hidden(mlp_a), shape_b = neurons_and_hidden(found->second);
    if (!shape_a || !shape_b || shape_a->second != shape_b->second) continue;
    const auto [neurons_a, hidden] = *shape_a;
    const std::uint64_t neurons_b = shape_b->first;
    if (neurons_a < 2 || neurons_b < 2) continue;
    neuron_match_request request;
    request.layer = where.first;
    request.group = where.second;
    request.gate_a = location_of(*mlp_a.gate);
    request.up_a = location_of(*mlp_a.up);
    request.down_a = location_of(*mlp_a.down);
    request.gate_b = location_of(*found->second.gate);
    request.up_b = location_of(*found->second.up);
    request.down_b = location_of(*found->second.down);
    request.neurons_a = neurons_a;
    request.neurons_b = neurons_b;
    request.hidden = hidden;
    request.column_count = std::min(hidden, compared_columns);
    const std::string label = fmt::format("layer {} / {}", where.first, where.second);
    random_stream stream(options.seed, "neuron matching columns", label);
    request.column_begin = stream.below(hidden - request.column_count + 1);
    // B's images of the compared dimensions under a recovered hidden-dimension permutation.
    request.columns_b = hidden_images(plan, request.column_begin, request.column_count, hidden);
    request.sample = neurons_a > matched_neurons ? matched_neurons : 0;
    if (std::max(neurons_a, neurons_b) > dense_neurons) {
      request.coarse_columns = std::min(coarse_columns, request.column_count);
      request.candidates = candidates_per_role;
    } else if (request.matched() * neurons_b > max_similarity_entries) {
      continue;
    }
    request.permutations = options.permutations_neurons;
    request.seed = job_seed ^ fnv1a_64("neuron matching / " + label);
    plan.neuron_matches.push_back(std::move(request));
  }
}

}  // namespace lineage
