#pragma once
// The last-phase plan of a comparison without the bytes the matching phases read (lineage plan).
//
// A real run plans, runs the hidden-dimension matching, plans again, runs expert and head
// matching, and plans the blocks. Without weights no matching can run, so every matching unit is
// taken as "not run": hidden dimensions and heads keep their order and experts pair by index, as in
// a run whose matching found nothing to undo. The pairs, blocks, bytes and nulls are then those of
// the real run whenever both models' widths and expert counts agree (the matchings reorder rows;
// they do not change how many are compared); only which B tensor meets which A tensor may differ.
#include "arch/architecture_map.hpp"
#include "checkpoint/checkpoint.hpp"
#include "plan/plan.hpp"

namespace lineage {

// The plan after every matching phase `options` would run, each taken as not run (see above). The
// matching units themselves stay in the plan, for counting.
work_plan plan_without_matching_bytes(const checkpoint& a, const checkpoint& b, const architecture_registry& registry,
                                      plan_options options);

}  // namespace lineage
