#include "plan/plan_projection.hpp"

#include <string>

#include "core/error.hpp"
#include <vector>

namespace lineage {
namespace {

constexpr const char* not_run = "not run: lineage plan reads headers only";

template <typename Result, typename Request>
std::vector<Result> not_run_results(const std::vector<Request>& requests) {
  std::vector<Result> results(requests.size());
  for (std::size_t i = 0; i < results.size(); ++i) {
    results[i].request = static_cast<std::uint32_t>(i);
    results[i].usable = false;
    results[i].reason = not_run;
  }
  return results;
}

}  // namespace

work_plan plan_without_matching_bytes(const checkpoint& a, const checkpoint& b, const architecture_registry& registry,
                                      plan_options options) {
  // The results live here, as plan_options points at them across the passes.
  std::vector<hidden_match_result> hidden;
  std::vector<expert_match_result> experts;
  std::vector<head_match_result> heads;
  work_plan plan = make_plan(a, b, registry, options);
  while (plan.awaits_matching()) {
    if (plan.awaits_hidden_matching()) {
      hidden = not_run_results<hidden_match_result>(plan.hidden_matches);
      options.hidden_matching = &hidden;
    } else {
      experts = not_run_results<expert_match_result>(plan.expert_matches);
      heads = not_run_results<head_match_result>(plan.head_matches);
      options.expert_matching = plan.expert_matches.empty() ? nullptr : &experts;
      options.head_matching = plan.head_matches.empty() ? nullptr : &heads;
    }
    work_plan next = make_plan(a, b, registry, options);
    if (next.awaits_hidden_matching() == plan.awaits_hidden_matching() &&
        next.awaits_second_phase() == plan.awaits_second_phase())
      throw internal_error("plan projection: a matching phase did not take its results");
    plan = std::move(next);
  }
  return plan;
}

}  // namespace lineage
