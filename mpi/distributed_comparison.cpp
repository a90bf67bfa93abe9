#include "mpi/distributed_comparison.hpp"

#include <fmt/format.h>


#include <chrono>
#include <cstring>
#include <iostream>
#include <optional>
#include <utility>

#include "core/resource_usage.hpp"
#include "job/comparison_steps.hpp"
#include "job/interrupt_signal.hpp"
#include "job/saved_work_check.hpp"
#include "mpi/rank_team.hpp"
#include "plan/plan_io.hpp"

namespace lineage {

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

// A matching phase: every rank computes its units of the phase the plan awaits (hidden dimensions,
// then experts and heads), rank 0 plans again with the results and shares the new plan.
int run_matching_phase(const communicator& comm, const compare_config& config, work_plan& plan) {
  rank_results matched;
  const outcome local = attempt([&] { matched = compute_matching_share(plan, rank_team(comm)); });
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

using clock = std::chrono::steady_clock;

// A share on the wire to or from rank 0: its unit count, then its results.
std::vector<char> share_bytes(std::uint64_t units_done, const std::vector<char>& results) {
  std::vector<char> bytes(sizeof units_done);
  std::memcpy(bytes.data(), &units_done, sizeof units_done);
  bytes.insert(bytes.end(), results.begin(), results.end());
  return bytes;
}

saved_share share_from_bytes(const std::vector<char>& bytes) {
  if (bytes.size() < sizeof(std::uint64_t)) throw internal_error("a share on the wire is shorter than its header");
  saved_share share;
  std::memcpy(&share.units_done, bytes.data(), sizeof share.units_done);
  share.results.assign(bytes.begin() + sizeof share.units_done, bytes.end());
  return share;
}

// Rank 0: the earlier state of this comparison, if one passes every check (else a warning).
std::optional<saved_comparison> saved_state(const comparison_run& run, std::uint64_t fingerprint, int ranks) {
  if (run.saved == nullptr) return std::nullopt;
  std::string rejected;
  auto state = run.saved->load(run.index, fingerprint, ranks, rejected);
  if (!rejected.empty()) print_warning_line(rejected);
  return state;
}

// The plan's matching phases, then on rank 0 the state an earlier run saved if it passes every
// check against this plan and the model bytes (job/saved_work_check.hpp): every rank learns its
// own saved share.
int plan_and_match(const communicator& comm, const compare_config& config, work_plan& plan, comparison_run& run,
                   std::uint64_t& fingerprint, std::optional<saved_comparison>& state, share_run& share) {
  std::vector<char> plan_bytes;
  outcome planned = attempt([&] {
    if (!comm.is_root()) return;
    plan_bytes = serialize_plan(plan);
    if (run.saved == nullptr) return;
    // The read windows follow rank 0's resident memory at planning time, which differs from run to
    // run and changes no figure: the fingerprint is of the plan without them.
    const read_settings reading = std::exchange(plan.reading, {});
    fingerprint = comparison_fingerprint(serialize_plan(plan), plan, config.to_json().dump());
    plan.reading = reading;
    state = saved_state(run, fingerprint, comm.size());
  });
  int status = share_plan(comm, plan, planned, plan_bytes);
  if (status != static_cast<int>(exit_status::ok)) return status;
  while (plan.awaits_matching()) {
    status = run_matching_phase(comm, config, plan);
    if (status != static_cast<int>(exit_status::ok)) return status;
  }
  const outcome checked = attempt([&] {
    if (!comm.is_root() || !state) return;
    if (const std::string problem = saved_work_problem(plan, *state); !problem.empty()) {
      print_warning_line(
          fmt::format("{}: {}; this work is done again", run.saved->file_of(run.index).string(), problem));
      state.reset();
    }
  });
  status = share_root_status(comm, checked);
  if (status != static_cast<int>(exit_status::ok)) return status;
  int resumed = state ? 1 : 0;
  comm.broadcast(resumed);
  if (resumed == 0) return status;
  std::vector<std::vector<char>> shares;
  if (comm.is_root())
    for (const saved_share& saved : state->shares) shares.push_back(share_bytes(saved.units_done, saved.results));
  const std::vector<char> mine = comm.scatter(shares);
  return agree(comm, attempt([&] {
    saved_share saved = share_from_bytes(mine);
    share.units_done = saved.units_done;
    share.results = deserialize_results(saved.results);
  }));
}

}  // namespace

int compute_across_ranks(const communicator& comm, const compare_config& config, work_plan& plan,
                         std::vector<rank_results>& per_rank, comparison_run& run) {
  const auto start = clock::now();
  const auto since = [](clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count(); };
  std::uint64_t fingerprint = 0;
  std::optional<saved_comparison> state;
  share_run share;
  int status = plan_and_match(comm, config, plan, run, fingerprint, state, share);
  if (status != static_cast<int>(exit_status::ok)) return status;
  run.timing.seconds_matching = since(start);
  std::uint64_t resumed_units = share.units_done;
  resumed_units = comm.sum(resumed_units);
  if (comm.is_root() && resumed_units > 0)
    std::cerr << fmt::format("lineage: {}: {} units were finished by an earlier run ({}); computing the rest\n",
                             run.progress.label, resumed_units, run.saved->file_of(run.index).string())
              << std::flush;

  status = compute_share_in_rounds(comm, plan, run.progress, share);
  share.timing.rank = comm.rank();
  share.timing.host = host_name();
  share.timing.seconds_matching = run.timing.seconds_matching;
  if (status != static_cast<int>(exit_status::ok) && status != static_cast<int>(exit_status::interrupted))
    return status;
  const bool interrupted = status == static_cast<int>(exit_status::interrupted);

  // Every rank's results reach rank 0: to be reduced, or to be saved for the next run.
  std::vector<char> mine;
  outcome packed = attempt([&] { mine = share_bytes(share.units_done, serialize_results(share.results)); });
  status = agree(comm, packed);
  if (status != static_cast<int>(exit_status::ok)) return status;
  const auto gathered = comm.gather(mine);
  std::uint64_t units_done = 0;
  const outcome kept = attempt([&] {
    if (!comm.is_root()) return;
    saved_comparison complete{plan_digest(plan), {}};
    per_rank.clear();
    for (const auto& bytes : gathered) {
      complete.shares.push_back(share_from_bytes(bytes));
      units_done += complete.shares.back().units_done;
      if (!interrupted) per_rank.push_back(deserialize_results(complete.shares.back().results));
    }
    if (run.saved != nullptr && (interrupted || run.save_when_complete))
      run.saved->save(run.index, fingerprint, complete);
  });
  status = share_root_status(comm, kept);
  if (status != static_cast<int>(exit_status::ok)) return status;
  run.timing = share.timing;
  run.timing.seconds_total = since(start);
  run.timing.peak_resident_bytes = peak_resident_bytes();
  if (!interrupted) return status;
  if (comm.is_root())
    std::cerr << fmt::format("lineage: stopped by {}: {} units of {} are done and saved in {}; run the same command "
                             "again to go on from there (slurm/compare.sbatch requeues the job)",
                             signal_name(share.signal), units_done, run.progress.label,
                             run.saved != nullptr ? run.saved->file_of(run.index).string() : std::string("(nowhere)"))
              << std::endl;
  return static_cast<int>(exit_status::interrupted);
}

}  // namespace lineage
