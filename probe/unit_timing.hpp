#pragma once
// One default comparison run in this process on one rank, each unit timed and set against what
// lineage plan's rates estimate for it, by kind (plan/time_estimate.hpp): what the speed probe
// measures on its small pair, and what bench_plan_rates measures on any pair to calibrate it.
#include <array>
#include <cstdint>

#include "job/job_config.hpp"
#include "plan/time_estimate.hpp"

namespace lineage {

struct kind_timing {
  double estimated = 0;  // seconds at the reference rates (unit_seconds)
  double measured = 0;   // seconds here
  std::uint64_t units = 0;
};

// Trivially copyable: the probe's processes send it through a pipe.
struct comparison_timing {
  std::array<kind_timing, unit_kind_count> kinds{};
  double block_bytes = 0, block_seconds = 0;  // the statistics pass's blocks (both sides' bytes)
  phase_seconds phases;  // as report.json's manifest.rank_runs times them (planning in matching)

  [[nodiscard]] const kind_timing& of(unit_kind kind) const { return kinds[static_cast<std::size_t>(kind)]; }
  kind_timing& of(unit_kind kind) { return kinds[static_cast<std::size_t>(kind)]; }
};

// Plans `config`'s comparison for one rank, runs its matching phases, then every unit of the
// rank's share, and times each. The planning is spread over the matching units' seconds (the
// phase they are measured in, as report.json's rank_runs counts it).
comparison_timing time_comparison(const compare_config& config);

// Keeps in `best` each kind's, the blocks' and each phase's faster of `best` and `t` (timings of the
// same comparison).
void keep_fastest(comparison_timing& best, const comparison_timing& t);

// Each kind's and the blocks' fastest of `runs` runs of the same comparison (the first also brings
// the code and the pages into memory).
comparison_timing fastest_of(const compare_config& config, int runs);

}  // namespace lineage
