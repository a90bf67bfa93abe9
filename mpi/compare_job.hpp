#pragma once
// The compare job on every rank: rank 0 resolves the config, reads both checkpoints' headers and
// makes the plan; the plan is broadcast; every rank computes its blocks; rank 0 gathers, merges in
// plan order and writes the report.
//
// Failure protocol: each phase ends in a collective that carries the worst status, so every rank
// learns of a failure at the same point and all of them return the same exit status; rank 0 prints
// the one-line error (a non-root rank's message is gathered to it first).
#include <string>

#include "mpi/communicator.hpp"
#include "mpi/job_config.hpp"

namespace lineage {

struct compare_request {
  compare_arguments arguments;
  std::string command_line;
};

// Returns the exit status (0 done, 2 bad input or usage, 1 anything else) on every rank.
int run_compare_job(const communicator& comm, const compare_request& request);

}  // namespace lineage
