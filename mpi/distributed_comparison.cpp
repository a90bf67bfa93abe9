#include "mpi/distributed_comparison.hpp"

#include <fmt/format.h>

#include <iostream>

#include "mpi/comparison_steps.hpp"
#include "mpi/plan_io.hpp"

namespace lineage {

void print_error(const std::string& message) { std::cerr << "lineage: error: " << message << std::endl; }

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

namespace {

// Rank 0's plan (serialized in `plan_bytes`, or the failure in `planned`) reaches every rank.
int share_plan(const communicator& comm, work_plan& plan, const outcome& planned, std::vector<char>& plan_bytes) {
  const int status = share_root_status(comm, planned);
  if (status != static_cast<int>(exit_status::ok)) return status;
  comm.broadcast(plan_bytes);
  const outcome local = attempt([&] {
    if (!comm.is_root()) plan = deserialize_plan(plan_bytes);
  });
  return agree(comm, local);
}

// Every rank's `results` gathered to rank 0 (in rank order, deserialized there).
std::vector<rank_results> gather_results(const communicator& comm, const rank_results& results) {
  const auto gathered = comm.gather(serialize_results(results));
  std::vector<rank_results> per_rank;
  for (const auto& bytes : gathered) per_rank.push_back(deserialize_results(bytes));
  return per_rank;
}

// A matching phase: every rank computes its units of the phase the plan awaits (hidden dimensions,
// then experts and heads), rank 0 plans again with the results and shares the new plan.
int run_matching_phase(const communicator& comm, const compare_config& config, work_plan& plan) {
  rank_results matched;
  const outcome local = attempt([&] { matched = compute_matching_share(plan, comm.rank()); });
  const int status = agree(comm, local);
  if (status != static_cast<int>(exit_status::ok)) return status;
  const auto gathered = comm.gather(serialize_results(matched));
  std::vector<char> plan_bytes;
  outcome planned;
  if (comm.is_root())
    planned = attempt([&] {
      std::vector<rank_results> per_rank;
      for (const auto& bytes : gathered) per_rank.push_back(deserialize_results(bytes));
      plan = plan_after_matching(config, comm.size(), plan, per_rank);
      plan_bytes = serialize_plan(plan);
    });
  return share_plan(comm, plan, planned, plan_bytes);
}

}  // namespace

int compute_across_ranks(const communicator& comm, const compare_config& config, work_plan& plan,
                         std::vector<rank_results>& per_rank) {
  std::vector<char> plan_bytes;
  const outcome planned = attempt([&] {
    if (comm.is_root()) plan_bytes = serialize_plan(plan);
  });
  int status = share_plan(comm, plan, planned, plan_bytes);
  if (status != static_cast<int>(exit_status::ok)) return status;
  // The matching phases, each flagged by the plan that travels: the hidden dimensions (the
  // embedding), then the experts of MoE models and the attention heads.
  while (plan.awaits_matching()) {
    status = run_matching_phase(comm, config, plan);
    if (status != static_cast<int>(exit_status::ok)) return status;
  }
  rank_results results;
  const outcome local = attempt([&] { results = compute_share(plan, comm.rank()); });
  status = agree(comm, local);
  if (status != static_cast<int>(exit_status::ok)) return status;
  // The gather is collective on every rank; a failure to read what arrived can only be rank 0's.
  const outcome gathered = attempt([&] { per_rank = gather_results(comm, results); });
  return share_root_status(comm, gathered);
}

}  // namespace lineage
