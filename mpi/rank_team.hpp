#pragma once
// Every rank of a communicator as the team that computes one unit together (shard/unit_team.hpp):
// member m is rank m.
#include "mpi/communicator.hpp"
#include "shard/unit_team.hpp"

namespace lineage {

class rank_team final : public unit_team {
 public:
  explicit rank_team(const communicator& comm) : comm_(comm) {}
  [[nodiscard]] int member() const noexcept override { return comm_.rank(); }
  [[nodiscard]] int members() const noexcept override { return comm_.size(); }
  [[nodiscard]] std::vector<std::vector<char>> all_gather(const std::vector<char>& mine) const override {
    return comm_.all_gather(mine);
  }
  void gather_doubles(std::span<const double> mine, std::span<double> all, int lead) const override {
    comm_.gather_doubles(mine.data(), mine.size(), all.data(), all.size(), lead);
  }

 private:
  const communicator& comm_;
};

}  // namespace lineage
