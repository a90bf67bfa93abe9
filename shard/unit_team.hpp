#pragma once
// The ranks that compute one unit together (issue 20). The hidden-dimension matching is one unit
// that every later unit waits for: computed by one rank, it left the others idle (an unrelated
// pair's rotation at hidden 4096: 44 s). Its members split the unit's independent parts (the A
// dimensions' candidates, the rows of a cross product) and exchange them, so the result has the
// bits of one rank's computation.
//
// Members must call the same exchanges in the same order. A member whose own part failed still
// takes part in the exchange (settle), so no member waits for one that will never come; then every
// member throws a relayed_error: the failing one with its own status and message, the others with
// the failing rank's.
#include <cstddef>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "core/outcome.hpp"
#include "shard/archive_bytes.hpp"

namespace lineage {

class unit_team {
 public:
  virtual ~unit_team() = default;
  [[nodiscard]] virtual int member() const noexcept = 0;
  [[nodiscard]] virtual int members() const noexcept = 0;
  // Every member's bytes, in member order, on every member.
  [[nodiscard]] virtual std::vector<std::vector<char>> all_gather(const std::vector<char>& mine) const = 0;
  // Member `lead` receives every member's doubles in member order, concatenated into `all` (which
  // the lead sized to their total; ignored elsewhere).
  virtual void gather_doubles(std::span<const double> mine, std::span<double> all, int lead) const = 0;
};

// One process computing the unit alone.
class solo_team final : public unit_team {
 public:
  [[nodiscard]] int member() const noexcept override { return 0; }
  [[nodiscard]] int members() const noexcept override { return 1; }
  [[nodiscard]] std::vector<std::vector<char>> all_gather(const std::vector<char>& mine) const override {
    return {mine};
  }
  void gather_doubles(std::span<const double> mine, std::span<double> all, int lead) const override;
};

// This member's share [begin, end) of `count` items split in member order, in whole multiples of
// `grain` (the last member takes the rest).
[[nodiscard]] std::pair<std::size_t, std::size_t> team_share(const unit_team& team, std::size_t count,
                                                             std::size_t grain);

// Every member learns whether any member's part failed (`mine`: this member's outcome); then it
// throws a relayed_error with the status and message of this member's failure, or else of the first
// failing member's (its message prefixed with the rank).
void settle(const unit_team& team, const outcome& mine);

// Runs `work` (this member's part) and settles: the part, once every member's has succeeded.
template <class Work>
auto settled_part(const unit_team& team, Work&& work) {
  std::optional<decltype(work())> mine;
  settle(team, attempt([&] { mine = std::forward<Work>(work)(); }));
  return std::move(*mine);
}

// Runs `work` (this member's part, a serializable value) and gives every member every member's part
// in member order.
template <class Work>
auto share_parts(const unit_team& team, Work&& work) {
  using part = decltype(work());
  std::vector<part> parts;
  for (const auto& bytes : team.all_gather(to_bytes(settled_part(team, std::forward<Work>(work)))))
    parts.push_back(from_bytes<part>(bytes));
  return parts;
}

}  // namespace lineage
