#pragma once
// The collective steps of one comparison across the ranks of a communicator: share rank 0's plan,
// match experts (MoE models), compute every rank's share, gather the results to rank 0.
// Each step ends in the failure protocol's collective (mpi/failure_protocol.hpp).
#include <string>
#include <utility>
#include <vector>

#include "job/job_config.hpp"
#include "job/saved_work.hpp"
#include "mpi/communicator.hpp"
#include "mpi/failure_protocol.hpp"
#include "mpi/statistics_rounds.hpp"
#include "plan/plan.hpp"
#include "reduce/block_results.hpp"

namespace lineage {

// What one comparison of the job needs besides its config and plan, and what it reports back.
struct comparison_run {
  std::size_t index = 0;              // among the job's comparisons: the panel's, then the pair
  const saved_work* saved = nullptr;  // rank 0: where finished work is kept (null: nothing kept)
  bool save_when_complete = false;    // keep the whole results: a later comparison follows
  progress_settings progress;
  rank_run timing;  // this rank's (out)
};

// One comparison: `plan` on rank 0 is the plan made from `config` for comm.size() ranks (the other
// ranks receive it). The matching phases come first when the plan awaits them — the hidden
// dimensions, then experts and attention heads — and rank 0 plans again from `config` with each
// phase's results. When `run.saved` holds a checked earlier state of this comparison, its plan
// (matching done) and finished units are taken instead of computed again. On a signal every rank
// stops after its current unit, rank 0 saves what all have finished and every rank returns
// exit_status::interrupted. Returns the agreed status; on success rank 0 holds the final plan in
// `plan` and every rank's results in `per_rank`.
int compute_across_ranks(const communicator& comm, const compare_config& config, work_plan& plan,
                         std::vector<rank_results>& per_rank, comparison_run& run);

}  // namespace lineage
