#pragma once
// Whether a saved state (job/saved_work.hpp) may be resumed by this job's plan. The state is
// untrusted input, and the model files may have changed since it was saved (same size and
// modification time, other bytes), so rank 0 checks, before any of it is used:
//  - the plan: the state records the digest of the plan its units were computed with (after the
//    matching phases, which a resumed job runs again); the saved plan itself is never read back;
//  - every rank's share: its count of finished units fits its share of the plan, and its results
//    are exactly the results of those units (every index checked against the plan);
//  - the bytes: the saved units read only bytes whose manifest hashes the state holds, and each of
//    those ranges hashes (read again now) to the same value; whole-file SHA-256s are recomputed.
// Any failure makes the whole state unusable: the work is done again.
#include <cstdint>
#include <string>

#include "job/saved_work.hpp"
#include "plan/plan.hpp"

namespace lineage {

// XXH3 of the plan as the units see it (without its read windows, which follow rank 0's memory).
[[nodiscard]] std::uint64_t plan_digest(const work_plan& plan);

// Why `state` cannot be resumed with `plan` (one phrase), or empty when it can.
[[nodiscard]] std::string saved_work_problem(const work_plan& plan, const saved_comparison& state);

}  // namespace lineage
