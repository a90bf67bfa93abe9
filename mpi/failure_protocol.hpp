#pragma once
// The failure protocol: each step of a job ends in a collective that carries the worst status, so
// every rank learns of a failure at the same point and all of them return the same exit status;
// rank 0 prints the one-line error (a non-root rank's message is gathered to it first).
#include <string>
#include <utility>

#include "core/error.hpp"
#include "mpi/communicator.hpp"

namespace lineage {

// A step's outcome on one rank.
struct outcome {
  int status = static_cast<int>(exit_status::ok);
  std::string message;
  [[nodiscard]] bool ok() const noexcept { return status == static_cast<int>(exit_status::ok); }
};

// Runs `work`, turning a lineage error (or any exception) into an outcome.
template <typename Work>
outcome attempt(Work&& work) {
  try {
    std::forward<Work>(work)();
    return {};
  } catch (const error& e) {
    return {static_cast<int>(e.status()), e.what()};
  } catch (const std::exception& e) {
    return {static_cast<int>(exit_status::failure), std::string("unexpected failure: ") + e.what()};
  }
}

// All ranks agree on the worst status; rank 0 prints the message of the lowest failing rank.
int agree(const communicator& comm, const outcome& mine);

// Rank 0's outcome becomes every rank's status (rank 0 prints its message on failure).
int share_root_status(const communicator& comm, const outcome& root_outcome);

}  // namespace lineage
