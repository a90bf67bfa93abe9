#pragma once
// The failure protocol: each step of a job ends in a collective that carries the worst status, so
// every rank learns of a failure at the same point and all of them return the same exit status;
// rank 0 prints the one-line error (a non-root rank's message is gathered to it first).
#include "core/error.hpp"
#include "core/outcome.hpp"
#include "mpi/communicator.hpp"

namespace lineage {

// All ranks agree on the worst status; rank 0 prints the message of the lowest failing rank.
int agree(const communicator& comm, const outcome& mine);

// Rank 0's outcome becomes every rank's status (rank 0 prints its message on failure).
int share_root_status(const communicator& comm, const outcome& root_outcome);

}  // namespace lineage
