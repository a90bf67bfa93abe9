#pragma once
// How a subcommand that runs under mpirun or srun starts: MPI for the job's lifetime, the job on
// the world communicator, and an abort when an exception escapes a collective.
#include <fmt/format.h>

#include <exception>

#include "core/error.hpp"
#include "mpi/communicator.hpp"

namespace lineage {

// Runs `job(world)` and returns its exit status. Every phase of a job catches its own errors and
// the ranks agree on them; only a failed collective escapes, and since the other ranks may be
// inside one, the job then ends by abort, not by return.
template <class Job>
int run_mpi_job(Job&& job) {
  const mpi_session session;
  const communicator world = session.world();
  try {
    return job(world);
  } catch (const std::exception& e) {
    print_error_line(fmt::format("[rank {}] {}", world.rank(), e.what()));
    world.abort(static_cast<int>(exit_status::failure));
  }
}

}  // namespace lineage
