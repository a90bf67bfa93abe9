#include "mpi/statistics_rounds.hpp"

#include <chrono>
#include <iostream>
#include <optional>

#include "job/comparison_steps.hpp"
#include "job/interrupt_signal.hpp"
#include "mpi/failure_protocol.hpp"

namespace lineage {
namespace {

using clock = std::chrono::steady_clock;

double seconds_since(clock::time_point start) { return std::chrono::duration<double>(clock::now() - start).count(); }

// What each rank adds to a round's sum.
enum slot : std::size_t { stop, failed, bytes_done, units_done, units_left, slots };

}  // namespace

int compute_share_in_rounds(const communicator& comm, const work_plan& plan, const progress_settings& progress,
                            share_run& run) {
  const std::vector<share_unit> units = share_units(plan, comm.rank());
  outcome local;
  if (run.units_done > units.size())
    local = {static_cast<int>(exit_status::failure), "saved work holds more units than this rank's share"};
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < run.units_done && i < units.size(); ++i) bytes += units[i].bytes;
  run.timing.units_resumed = run.units_done;

  // Rank 0 shows progress of the whole phase: the totals over every rank's share.
  std::optional<progress_meter> meter;
  std::uint64_t all_bytes = 0, all_units = 0;
  if (comm.is_root() && progress.style != progress_style::none)
    for (int r = 0; r < comm.size(); ++r)
      for (const share_unit& unit : share_units(plan, r)) all_bytes += unit.bytes, ++all_units;

  block_reader reader = plan_reader(plan);
  const auto contribution = [&] {
    std::vector<std::uint64_t> values(slots, 0);
    values[stop] = interrupt_signal() != 0 ? 1 : 0;
    values[failed] = local.status != static_cast<int>(exit_status::ok) ? 1 : 0;
    values[bytes_done] = bytes;
    values[units_done] = run.units_done;
    values[units_left] = values[failed] != 0 ? 0 : units.size() - run.units_done;
    return values;
  };
  std::optional<pending_sum> round;
  round.emplace(comm, contribution());
  bool first_round = true;
  for (;;) {
    const bool can_work = local.status == static_cast<int>(exit_status::ok) && interrupt_signal() == 0 &&
                          run.units_done < units.size();
    bool arrived = true;
    if (can_work) {
      arrived = round->arrived();
    } else {  // nothing to do here until the ranks decide
      const auto start = clock::now();
      round->wait();
      run.timing.seconds_waiting += seconds_since(start);
    }
    if (arrived) {
      const std::vector<std::uint64_t> total = round->total();
      if (comm.is_root() && progress.style != progress_style::none) {
        if (first_round)
          meter.emplace(std::cerr, progress.label, progress.style, progress.terminal, progress.log_every_seconds,
                        all_bytes, all_units, total[bytes_done], total[units_done]);
        meter->update(total[bytes_done], total[units_done]);
      }
      first_round = false;
      if (total[failed] > 0 || total[stop] > 0 || total[units_left] == 0) {
        round.reset();
        if (meter && total[failed] > 0) meter->abandon();
        else if (meter) meter->finish(total[stop] > 0 ? "stopped by a signal" : "done");
        if (total[failed] > 0) return agree(comm, local);
        if (total[stop] > 0) {
          // Every rank learns which signal (the largest number any rank received).
          run.signal = comm.max(interrupt_signal());
          return static_cast<int>(exit_status::interrupted);
        }
        return static_cast<int>(exit_status::ok);
      }
      round.emplace(comm, contribution());
      // A sum that arrives at once (one rank, or fast ranks) must not keep the rank from working.
      if (!can_work) continue;
    }
    const share_unit& unit = units[run.units_done];
    const auto start = clock::now();
    local = attempt([&] { compute_unit(plan, unit, reader, run.results); });
    const double took = seconds_since(start);
    (unit.what == share_unit::kind::block  ? run.timing.seconds_blocks
     : unit.what == share_unit::kind::null ? run.timing.seconds_nulls
                                           : run.timing.seconds_other) += took;
    if (local.status != static_cast<int>(exit_status::ok)) continue;
    ++run.units_done;
    bytes += unit.bytes;
    run.timing.bytes_read += unit.bytes;
    ++run.timing.units;
  }
}

}  // namespace lineage
