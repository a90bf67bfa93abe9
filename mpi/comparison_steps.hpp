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

// Reads both checkpoints' headers and plans the work for `ranks` ranks.
work_plan plan_comparison(const compare_config& config, int ranks);

// The blocks and nulls the plan gives to `rank`.
rank_results compute_share(const work_plan& plan, int rank);

// Merges every rank's results in plan order and assesses the evidence.
comparison_report reduce_comparison(const work_plan& plan, const std::vector<rank_results>& per_rank,
                                    run_manifest manifest, const analysis_options& analysis);

// All three steps in this process; writes nothing.
comparison_report compare_in_process(const compare_config& config);

}  // namespace lineage
