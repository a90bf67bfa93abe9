#pragma once
// The speed probe run as the job's ranks run on one node: `processes` copies at once, so that they
// share the node's memory system and caches as the ranks will (on two cores, two ranks each run
// about a fifth slower than one alone: docs/PERFORMANCE.md).
#include <functional>
#include <vector>

#include "probe/unit_timing.hpp"

namespace lineage {

// Runs `probe` in this process and in `processes` - 1 forked ones at the same time, and returns each
// one's timings (this process's first). A child that fails makes this throw the child's message as
// an internal_error; no child outlives the call.
std::vector<comparison_timing> run_concurrently(int processes, const std::function<comparison_timing()>& probe);

}  // namespace lineage
