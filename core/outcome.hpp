#pragma once
// A step's outcome on one rank: its exit status and, on failure, its one-line message. The failure
// protocol (mpi/failure_protocol.hpp) and a unit's team (shard/unit_team.hpp) exchange these.
#include <string>
#include <utility>

#include "core/error.hpp"

namespace lineage {

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

}  // namespace lineage
