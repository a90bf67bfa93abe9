// The planner's part in shape-free fingerprints: one unit per tensor of a layer that both models
// have under the same key but with other shapes, so that no element of one meets an element of the
// other (shard/fingerprint.hpp). Routed experts are left out: a pruned MoE model would ask for one
// SVD per expert, and their evidence comes from the expert matching.
#include <fmt/format.h>

#include "plan/plan_views.hpp"

namespace lineage {

void plan_fingerprints(work_plan& plan, const keyed_views& views_a, const keyed_views& views_b,
                       const null_options& options) {
  const std::uint64_t job_seed = mixed_job_seed(options.seed);
  for (const auto& [key, list_a] : views_a) {
    if (key.layer < 0 || key.expert >= 0 || list_a.size() != 1) continue;
    const auto found = views_b.find(key);
    if (found == views_b.end() || found->second.size() != 1) continue;
    const planned_tensor a = plan_side(list_a.front()), b = plan_side(found->second.front());
    if (a.shape == b.shape || a.shape.size() != b.shape.size() || a.shape.empty() || a.shape.size() > 2) continue;
    if (a.elements == 0 || b.elements == 0) continue;
    fingerprint_request request;
    request.layer = key.layer;
    request.role = key.role;
    request.a = {{a.file, a.byte_offset, a.type}, a.shape, a.name};
    request.b = {{b.file, b.byte_offset, b.type}, b.shape, b.name};
    request.seed = job_seed ^ fnv1a_64(fmt::format("fingerprint / {} / {}", key.layer, key.role));
    plan.fingerprints.push_back(std::move(request));
  }
}

}  // namespace lineage
