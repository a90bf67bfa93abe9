#pragma once
// The three steps of a comparison, apart from how ranks share them: plan (rank 0), compute (each
// rank its share), reduce (rank 0). compare_job.cpp runs them across MPI ranks; compare_in_process
// runs them in one process, for tests and calibration studies, with the same results.
#include <vector>

#include "mpi/job_config.hpp"
#include "mpi/plan.hpp"
#include "reduce/block_results.hpp"
#include "reduce/report_model.hpp"

namespace lineage {

// Reads both checkpoints' headers and plans the work for `ranks` ranks. Given the results of the
// expert-matching units of the plan made without them, pairs experts by the matching.
work_plan plan_comparison(const compare_config& config, int ranks,
                          const std::vector<expert_match_result>* expert_matching = nullptr);

// The expert-matching units the plan gives to `rank` (the phase before the blocks, when the plan
// awaits_expert_matching()).
rank_results compute_matching_share(const work_plan& plan, int rank);

// The blocks, nulls, cross-layer and neuron-matching units the plan gives to `rank`.
rank_results compute_share(const work_plan& plan, int rank);

// Merges every rank's results in plan order and assesses the evidence.
comparison_report reduce_comparison(const work_plan& plan, const std::vector<rank_results>& per_rank,
                                    run_manifest manifest, const analysis_options& analysis);

// Panel comparison `index` of `main`: model A (even) or B (odd) against reference index / 2, with
// the same settings but no per-tensor nulls (the panel is itself a null).
compare_config panel_member_config(const compare_config& main, std::size_t index);

// What a panel comparison contributes, from its merged results.
panel_comparison panel_member(const compare_config& member, std::size_t index, const work_plan& plan,
                              const std::vector<rank_results>& per_rank);

// All steps in this process (reference panel included); writes nothing.
comparison_report compare_in_process(const compare_config& config);

}  // namespace lineage
