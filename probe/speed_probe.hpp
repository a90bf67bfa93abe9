#pragma once
// How fast this machine computes each kind of unit of a comparison, against the machine lineage
// plan's rates were fitted on (issue 20: the plan's estimate within ±30 % on any machine).
//
// The probe writes a small Llama-shaped BF16 pair (B = A + noise; probe_pair.hpp) into a scratch
// directory, runs a default comparison of it in this process (one rank, as a rank of the job
// would; unit_timing.hpp), and times every unit. For each kind of unit (a null by its form, each
// matching, cross-layer units) it sets the measured seconds against what the plan's rates estimate
// for the same units; on the reference machine that ratio was measured too, so a kind's speed
// factor is this machine's ratio over the reference's, and the estimate of a large pair divided by
// it is what this machine would take. Kinds the probe pair has none of take a related kind's factor
// (fingerprints: neuron matching's; expert matching: head matching's; the hidden rotation: the
// hidden matching's).
#include <array>
#include <filesystem>

#include "plan/time_estimate.hpp"
#include "probe/unit_timing.hpp"

namespace lineage {

struct speed_probe_result {
  machine_speed speed;        // each kind of unit
  double blocks = 1;          // the statistics pass over the page cache (the kernel's GB/s)
  // The kinds whose factor is a related kind's (the probe pair has no such unit).
  std::array<bool, unit_kind_count> borrowed{};
  comparison_timing timing;   // the probe pair's, each kind the mean over the processes
  int runs = 0;               // per process, each kind the fastest of them
  int processes = 1;          // run at once, as ranks on one node
};

// Runs the probe in a new directory under `scratch` (removed afterwards, also on failure), in
// `processes` processes at once (the ranks a node will run; concurrent_runs.hpp), each kind the
// fastest of `runs` comparisons per process. Throws input_error naming `scratch` when it cannot be
// written.
inline constexpr int default_probe_runs = 3;
speed_probe_result measure_speed(const std::filesystem::path& scratch, int processes = 1,
                                 int runs = default_probe_runs);

// Where the probe writes its pair: $TMPDIR (node-local on most clusters), else /tmp.
std::filesystem::path probe_scratch();

// The statistics pass's GB/s on one core of the reference machine, from the page cache with the
// manifest's hashes: what `lineage plan` assumes unless told or measured.
inline constexpr double reference_kernel_gbps = 6.0;

// Estimated over measured seconds (0 when nothing was measured).
[[nodiscard]] double estimate_ratio(const kind_timing& kind) noexcept;
[[nodiscard]] double block_ratio(const comparison_timing& timing) noexcept;

// The probe pair's estimated / measured seconds of each kind on the reference machine (0: the
// probe has no such unit), and of the blocks.
[[nodiscard]] double reference_ratio(unit_kind kind) noexcept;
[[nodiscard]] double reference_block_ratio() noexcept;

}  // namespace lineage
