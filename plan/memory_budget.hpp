#pragma once
// The per-rank memory budget (memory_budget / --memory-budget), and the memory model that
// `lineage plan` reports. A rank computes one unit at a time; what it holds resident is what it
// held before the first unit, plus the unit's own buffers (a block's bytes, a matching unit's
// decoded rows and similarity matrices), plus what a permutation null reads of its two tensors.
// The last is the only part that grows with the model: with a budget, a null reads through
// windows (shard/byte_source.hpp) of at most `window_bytes` charged mapped bytes and
// `window_bytes` decoded floats per side, so it holds at most 4 windows; without one it maps both
// tensors whole and decodes each side whole up to largest_window bytes of floats. Rank 0 checks
// the plan against the budget before any weight is read and picks the window, or rejects the
// budget with the figures that make it too small.
#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.hpp"
#include "shard/byte_source.hpp"

namespace lineage {

// One unit of the plan: its rank, what it is, and the bytes it holds resident (an upper
// estimate) beyond the windows of its reads (`fixed`) and with them (`total`, for given reading
// settings).
struct unit_memory {
  std::uint32_t rank = 0;
  std::string unit;  // "block of 'model.layers.0.mlp.up_proj.weight'", …
  std::uint64_t fixed = 0, total = 0;
};

// Every unit of the plan (blocks, nulls, cross-layer, matching and fingerprint units).
[[nodiscard]] std::vector<unit_memory> memory_by_unit(const work_plan& plan, const read_settings& reading);

// What a null holds beyond its reads of the two tensors: per-unit arrays, the draws the column
// path keeps, the cross products of a null from products.
[[nodiscard]] std::uint64_t null_fixed_bytes(const null_request& request);

// The unit with the largest fixed need.
[[nodiscard]] unit_memory largest_memory_need(const work_plan& plan);

// What rank 0 holds of every null's draws (and of the expert nulls') until the report is
// written. A plan whose draws exceed the budget, or the machine's memory without one, is refused
// by reading_within_budget as a usage error.
[[nodiscard]] std::uint64_t draws_reserve(const work_plan& plan) noexcept;

// Slack for the allocator, the job's results and the report rank 0 assembles at the end.
[[nodiscard]] std::uint64_t memory_reserve(const work_plan& plan) noexcept;

// Windows at least this large: a null decodes a row at a time at least.
inline constexpr std::uint64_t smallest_window = std::uint64_t{1} << 20;
// And never more than what a null decodes whole without a budget.
inline constexpr std::uint64_t largest_window = unbounded_float_limit;

// How the plan's units read within `budget` bytes of resident memory per rank (0: no budget, no
// windows) when `resident` bytes are resident before the first unit. Throws usage_error naming
// the budget, what the plan needs and the budget that would do when it is too small.
[[nodiscard]] read_settings reading_within_budget(const work_plan& plan, std::uint64_t budget, read_method method,
                                                  std::uint64_t resident);

}  // namespace lineage
