#pragma once
// The three steps of a comparison, apart from how ranks share them: plan (rank 0), compute (each
// rank its share), reduce (rank 0). compare_job.cpp runs them across MPI ranks; compare_in_process
// runs them in one process, for tests and calibration studies, with the same results.
#include <cstdint>
#include <vector>

#include "job/job_config.hpp"
#include "plan/plan.hpp"
#include "reduce/block_results.hpp"
#include "reduce/report_model.hpp"
#include "shard/block_compute.hpp"
#include "shard/unit_team.hpp"

namespace lineage {

// What the matching phases found, for planning again: the hidden-dimension matching (first phase)
// and the expert and head matching (second phase), each in the order of the plan that asked for it.
struct matching_so_far {
  const std::vector<hidden_match_result>* hidden = nullptr;
  const std::vector<expert_match_result>* experts = nullptr;
  const std::vector<head_match_result>* heads = nullptr;
  // The plan these results came from (on rank 0): its tokenizers are reused, not read again.
  const work_plan* earlier = nullptr;
};

// Reads both checkpoints' headers and plans the work for `ranks` ranks, with what the matching
// phases found so far (experts paired by their matching). `content` says what the manifest hashes;
// a plan made again after a matching phase (matched.earlier) keeps the earlier plan's.
work_plan plan_comparison(const compare_config& config, int ranks, matching_so_far matched = {},
                          content_options content = {});

// The matching units the plan gives to the rank `team.member()` in the phase it awaits (the phases
// come before the blocks): the hidden-dimension matching when it awaits_hidden_matching(), which
// every member of `team` (all ranks) computes together, else the expert and head matching (the
// second phase, which reads B through the recovered hidden order).
// With `seconds`, each unit's seconds on this rank are appended to its kind's list, in plan order
// (the speed probe's timings, probe/unit_timing.hpp).
struct matching_unit_seconds {
  std::vector<double> hidden, experts, heads;
};
rank_results compute_matching_share(const work_plan& plan, const unit_team& team,
                                    matching_unit_seconds* seconds = nullptr);

// Plans again with the results of the phase `plan` awaited (gathered from every rank); the
// results of earlier phases come from `plan`.
work_plan plan_after_matching(const compare_config& config, int ranks, const work_plan& plan,
                              const std::vector<rank_results>& per_rank);

// Null `index` of the plan: B read through its pair's alignment, the rows folded with the norm
// the request names (read through that pair's alignment).
null_samples compute_null(const work_plan& plan, std::size_t index, block_reader& reader);

// A reader of the plan's model files (A's and B's), for computing its units.
block_reader plan_reader(const work_plan& plan);

// One unit of a rank's share of the statistics phase: a block, a null, a cross-layer unit, a
// neuron-matching unit, a fingerprint or a content unit (the manifest's hashes), by its index in
// the plan's list of that kind.
struct share_unit {
  enum class kind : std::uint8_t { block, null, cross_layer, neuron_match, fingerprint, content };
  kind what = kind::block;
  std::size_t index = 0;
  // Checkpoint bytes it reads: A's and B's (blocks and nulls), what it hashes (content units); 0
  // otherwise.
  std::uint64_t bytes = 0;
};

// The units the plan gives to `rank`, in the order the rank computes them: its blocks, then its
// content units, nulls, cross-layer units, neuron-matching units and fingerprints.
std::vector<share_unit> share_units(const work_plan& plan, int rank);

// Computes `unit` and appends its result to `results`.
void compute_unit(const work_plan& plan, const share_unit& unit, block_reader& reader, rank_results& results);

// Every unit of share_units(plan, rank), in order.
rank_results compute_share(const work_plan& plan, int rank);

// Merges every rank's results in plan order and assesses the evidence.
comparison_report reduce_comparison(const work_plan& plan, const std::vector<rank_results>& per_rank,
                                    run_manifest manifest, const analysis_options& analysis);

// What the manifest hashes in a panel comparison: nothing (the report's manifest is of A and B).
content_options panel_content();

// What a panel comparison contributes, from its merged results.
panel_comparison panel_member(const compare_config& member, std::size_t index, const work_plan& plan,
                              const std::vector<rank_results>& per_rank);

// All steps in this process (reference panel included); writes nothing.
comparison_report compare_in_process(const compare_config& config);

}  // namespace lineage
