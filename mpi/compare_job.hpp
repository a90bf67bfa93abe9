#pragma once
// The compare job on every rank: rank 0 resolves the config, reads both checkpoints' headers,
// makes the plan and reads any panel reports; the reference panel's comparisons (A and B against
// each reference) run first; then the pair itself: the plan is broadcast, experts are matched,
// every rank computes its blocks; rank 0 gathers, merges in plan order and writes the report.
// The failure protocol is mpi/failure_protocol.hpp.
#include <string>

#include "job/job_config.hpp"
#include "mpi/communicator.hpp"

namespace lineage {

struct compare_request {
  compare_arguments arguments;
  std::string command_line;
  bool print_panel_tasks = false;  // --panel-tasks: print the panel's task count, run nothing
  bool no_resume = false;          // --no-resume: do everything again, ignoring saved work
  std::string progress = "auto";   // --progress auto | bar | log | none
  double progress_every = 60;      // --progress-every: seconds between log lines
};

// Returns the exit status (0 done, 2 bad input or usage, 75 stopped by a signal with the finished
// work saved, 1 anything else) on every rank.
int run_compare_job(const communicator& comm, const compare_request& request);

}  // namespace lineage
