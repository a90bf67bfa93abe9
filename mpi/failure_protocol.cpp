#include "mpi/failure_protocol.hpp"

#include <fmt/format.h>

#include <vector>

namespace lineage {

namespace {

void print_error(const std::string& message) { print_error_line(message); }

}  // namespace

int agree(const communicator& comm, const outcome& mine) {
  const int worst = comm.max(mine.status);
  if (worst == static_cast<int>(exit_status::ok)) return worst;
  const std::vector<char> bytes(mine.message.begin(), mine.message.end());
  const auto messages = comm.gather(bytes);
  if (comm.is_root())
    for (std::size_t r = 0; r < messages.size(); ++r)
      if (!messages[r].empty()) {
        const std::string text(messages[r].begin(), messages[r].end());
        print_error(r == 0 ? text : fmt::format("[rank {}] {}", r, text));
        break;
      }
  return worst;
}

int share_root_status(const communicator& comm, const outcome& root_outcome) {
  int status = root_outcome.status;
  comm.broadcast(status);
  if (status != static_cast<int>(exit_status::ok) && comm.is_root()) print_error(root_outcome.message);
  return status;
}

}  // namespace lineage
