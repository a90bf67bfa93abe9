#pragma once
// The statistics phase of one comparison on every rank, in rounds: each rank computes its units
// (share_units) in order and, between units, takes part in a running sum over all ranks
// (pending_sum) of what it has done, whether it was asked to stop (a signal, interrupt_signal.hpp)
// and whether it failed. Every rank reads the same sums, so all decide alike — go on, stop (each
// after the unit it is computing), or finish — without waiting for one another between units.
// Rank 0 shows the sums as progress.
#include <cstdint>

#include "job/progress_meter.hpp"
#include "mpi/communicator.hpp"
#include "plan/plan.hpp"
#include "reduce/block_results.hpp"
#include "reduce/rank_run.hpp"

namespace lineage {

struct share_run {
  rank_results results;          // of the first units_done units of share_units(plan, rank)
  std::uint64_t units_done = 0;  // set before the call to what an earlier run finished
  rank_run timing;               // seconds, bytes and units of this run (added to)
  int signal = 0;                // the signal the ranks stopped for (interrupted status)
};

struct progress_settings {
  std::string label;  // "model A vs model B", "reference panel 1 of 4"
  progress_style style = progress_style::automatic;
  bool terminal = false;  // whether rank 0's progress stream is a terminal
  double log_every_seconds = 60;
};

// Returns exit_status ok (every unit done), interrupted (all ranks stopped; `run` holds what each
// finished) or a failure, which agree() has reported.
int compute_share_in_rounds(const communicator& comm, const work_plan& plan, const progress_settings& progress,
                            share_run& run);

}  // namespace lineage
