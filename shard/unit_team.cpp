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

void settle(const unit_team& team, const outcome& mine) {
  // A member's outcome on the wire: its exit status, then its message.
  std::vector<char> bytes(sizeof mine.status);
  std::memcpy(bytes.data(), &mine.status, sizeof mine.status);
  bytes.insert(bytes.end(), mine.message.begin(), mine.message.end());
  const auto outcomes = team.all_gather(bytes);
  if (!mine.ok()) throw relayed_error(static_cast<exit_status>(mine.status), mine.message);
  for (std::size_t m = 0; m < outcomes.size(); ++m) {
    int status = 0;
    if (outcomes[m].size() < sizeof status) throw internal_error("a team member's outcome is shorter than its header");
    std::memcpy(&status, outcomes[m].data(), sizeof status);
    if (status == static_cast<int>(exit_status::ok)) continue;
    const std::string message(outcomes[m].begin() + sizeof status, outcomes[m].end());
    throw relayed_error(static_cast<exit_status>(status), fmt::format("[rank {}] {}", m, message));
  }
}

}  // namespace lineage
