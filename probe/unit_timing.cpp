#include "probe/unit_timing.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "core/error.hpp"
#include "job/comparison_steps.hpp"

namespace lineage {
namespace {

using clock = std::chrono::steady_clock;

double since(clock::time_point start) { return std::chrono::duration<double>(clock::now() - start).count(); }

void add(kind_timing& kind, double estimated, double measured) {
  kind.estimated += estimated;
  kind.measured += measured;
  kind.units += 1;
}

// The matching units' seconds into their kinds: a hidden unit that turned B by a rotation counts
// as a rotation (its estimate then includes the rotation's).
void add_matching(const work_plan& plan, const rank_results& results, const matching_unit_seconds& seconds,
                  comparison_timing& out) {
  for (std::size_t i = 0; i < seconds.hidden.size() && i < plan.hidden_matches.size(); ++i) {
    const hidden_match_request& request = plan.hidden_matches[i];
    const bool rotated = i < results.hidden_matches.size() && !results.hidden_matches[i].rotation.empty();
    if (rotated)
      add(out.of(unit_kind::hidden_rotation), unit_seconds(request) + rotation_seconds(request), seconds.hidden[i]);
    else
      add(out.of(unit_kind::hidden_match), unit_seconds(request), seconds.hidden[i]);
  }
  for (std::size_t i = 0; i < seconds.experts.size() && i < plan.expert_matches.size(); ++i)
    add(out.of(unit_kind::expert_match), unit_seconds(plan.expert_matches[i]), seconds.experts[i]);
  for (std::size_t i = 0; i < seconds.heads.size() && i < plan.head_matches.size(); ++i)
    add(out.of(unit_kind::head_match), unit_seconds(plan.head_matches[i]), seconds.heads[i]);
}

// The matching phase also plans again after each matching step (reads the headers, pairs, deals),
// which no rate estimates on its own: as when the rates were fitted on the phase, the matching
// units' seconds are scaled to the phase's.
void spread_planning(comparison_timing& out) {
  constexpr std::array matching{unit_kind::expert_match, unit_kind::head_match, unit_kind::hidden_match,
                                unit_kind::hidden_rotation};
  double units = 0;
  for (const unit_kind kind : matching) units += out.of(kind).measured;
  if (!(units > 0)) return;
  for (const unit_kind kind : matching) out.of(kind).measured *= out.phases.matching / units;
}

// A unit of the statistics phase, at its kind's estimate.
template <class Request>
void add_unit(const Request& request, double seconds, comparison_timing& out) {
  add(out.of(kind_of(request)), unit_seconds(request), seconds);
}

void add_share_unit(const work_plan& plan, const share_unit& unit, double seconds, comparison_timing& out) {
  switch (unit.what) {
    case share_unit::kind::block:
      out.block_bytes += static_cast<double>(unit.bytes);
      out.block_seconds += seconds;
      out.phases.blocks += seconds;
      return;
    case share_unit::kind::null:
      add_unit(plan.nulls.at(unit.index), seconds, out);
      out.phases.nulls += seconds;
      return;
    case share_unit::kind::cross_layer: add_unit(plan.cross_layers.at(unit.index), seconds, out); break;
    case share_unit::kind::neuron_match: add_unit(plan.neuron_matches.at(unit.index), seconds, out); break;
    case share_unit::kind::fingerprint: add_unit(plan.fingerprints.at(unit.index), seconds, out); break;
    case share_unit::kind::content: break;
  }
  out.phases.other += seconds;
}

}  // namespace

comparison_timing time_comparison(const compare_config& config) {
  comparison_timing out;
  work_plan plan = plan_comparison(config, 1);
  // The matching phase's clock starts after the first plan, as lineage compare's does
  // (mpi/distributed_comparison.cpp): the tokenizer evidence and the first dealing are not in it.
  const auto start = clock::now();
  while (plan.awaits_matching()) {
    matching_unit_seconds seconds;
    rank_results results = compute_matching_share(plan, solo_team{}, &seconds);
    add_matching(plan, results, seconds, out);
    plan = plan_after_matching(config, 1, plan, {std::move(results)});
  }
  out.phases.matching = since(start);
  spread_planning(out);
  block_reader reader = plan_reader(plan);
  rank_results results;
  for (const share_unit& unit : share_units(plan, 0)) {
    const auto unit_start = clock::now();
    compute_unit(plan, unit, reader, results);
    add_share_unit(plan, unit, since(unit_start), out);
  }
  return out;
}

void keep_fastest(comparison_timing& best, const comparison_timing& t) {
  for (std::size_t k = 0; k < unit_kind_count; ++k)
    if (t.kinds[k].measured < best.kinds[k].measured) best.kinds[k] = t.kinds[k];
  if (t.block_seconds < best.block_seconds) {
    best.block_seconds = t.block_seconds;
    best.block_bytes = t.block_bytes;
  }
  best.phases.matching = std::min(best.phases.matching, t.phases.matching);
  best.phases.blocks = std::min(best.phases.blocks, t.phases.blocks);
  best.phases.nulls = std::min(best.phases.nulls, t.phases.nulls);
  best.phases.other = std::min(best.phases.other, t.phases.other);
}

comparison_timing fastest_of(const compare_config& config, int runs) {
  if (runs < 1) throw internal_error("fastest_of: at least one run");
  comparison_timing best = time_comparison(config);
  for (int i = 1; i < runs; ++i) keep_fastest(best, time_comparison(config));
  return best;
}

}  // namespace lineage
