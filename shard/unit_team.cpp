#include "shard/unit_team.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "core/error.hpp"

namespace lineage {

void solo_team::gather_doubles(std::span<const double> mine, std::span<double> all, int /*lead*/) const {
  if (all.size() != mine.size()) throw internal_error("gather_doubles: the total differs from the parts");
  std::copy(mine.begin(), mine.end(), all.begin());
}

std::pair<std::size_t, std::size_t> team_share(const unit_team& team, std::size_t count, std::size_t grain) {
  const auto members = static_cast<std::size_t>(team.members()), member = static_cast<std::size_t>(team.member());
  const std::size_t grains = (count + grain - 1) / grain, each = grains / members, extra = grains % members;
  // The first `extra` members take one grain more.
  const std::size_t first = member * each + std::min(member, extra), taken = each + (member < extra ? 1 : 0);
  return {std::min(count, first * grain), std::min(count, (first + taken) * grain)};
}

namespace {

// A member's status on the wire: its exit status (0: its part is done), then its message.
std::vector<char> status_bytes(const std::exception_ptr& failure) {
  int status = static_cast<int>(exit_status::ok);
  std::string message;
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const error& e) {
      status = static_cast<int>(e.status());
      message = e.what();
    } catch (const std::exception& e) {
      status = static_cast<int>(exit_status::failure);
      message = std::string("unexpected failure: ") + e.what();
    }
  }
  std::vector<char> bytes(sizeof status);
  std::memcpy(bytes.data(), &status, sizeof status);
  bytes.insert(bytes.end(), message.begin(), message.end());
  return bytes;
}

}  // namespace

void settle(const unit_team& team, const std::exception_ptr& failure) {
  const auto statuses = team.all_gather(status_bytes(failure));
  if (failure) std::rethrow_exception(failure);
  for (std::size_t m = 0; m < statuses.size(); ++m) {
    int status = 0;
    if (statuses[m].size() < sizeof status) throw internal_error("a team member's status is shorter than its header");
    std::memcpy(&status, statuses[m].data(), sizeof status);
    if (status == static_cast<int>(exit_status::ok)) continue;
    const std::string message(statuses[m].begin() + sizeof status, statuses[m].end());
    throw relayed_error(static_cast<exit_status>(status), fmt::format("[rank {}] {}", m, message));
  }
}

}  // namespace lineage
