#pragma once
// `lineage index MODEL -o REGISTRY`: the command-line face of mpi/index_job.
#include "app/command.hpp"

namespace lineage {

// Registers "index" under `parent`; run() starts MPI, runs the job and returns its exit status.
command add_index_command(CLI::App& parent);

}  // namespace lineage
