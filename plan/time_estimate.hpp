#pragma once
// How long each phase of a comparison takes on each rank (issue 20; `lineage plan`, and the
// dealing of units to ranks).
//
// Every unit's request states its work in cost units (its cost(): multiply-adds or their
// equivalent). What a cost unit takes on one core differs by kind: a null's unit is a streamed
// multiply-add, a matching unit's a step of a similarity matrix or a transpose. Each kind's rate
// was measured end to end (scripts/bench-e2e's pair at scales 1 and 4, one kind switched on at a
// time; docs/PERFORMANCE.md, "Where lineage plan's estimate comes from"), so seconds = cost /
// rate. Blocks and the manifest's content units read bytes, at the rate the caller gives.
//
// The phases are those of report.json's manifest.rank_runs: the matching phases (hidden
// dimensions first, then experts and heads; each ends when its slowest rank is done, so every
// rank spends their sum), then the blocks, the nulls and the other units (cross-layer, neuron
// matching, fingerprints, content units).
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "plan/plan.hpp"

namespace lineage {

// One core's seconds for a unit: its cost units at its kind's rate (for a null, at its form's:
// cyclic shifts, direct draws along rows or columns, or cross products and their draws).
[[nodiscard]] double unit_seconds(const null_request& request) noexcept;
[[nodiscard]] double unit_seconds(const cross_layer_request& request) noexcept;
[[nodiscard]] double unit_seconds(const neuron_match_request& request) noexcept;
[[nodiscard]] double unit_seconds(const fingerprint_request& request) noexcept;
[[nodiscard]] double unit_seconds(const expert_match_request& request) noexcept;
[[nodiscard]] double unit_seconds(const head_match_request& request) noexcept;
// A hidden unit is computed by `members` ranks together: one member's seconds, without the rotation;
// and the rotation's (the lead runs the SVDs).
[[nodiscard]] double unit_seconds(const hidden_match_request& request, std::uint64_t members = 1) noexcept;
[[nodiscard]] double rotation_seconds(const hidden_match_request& request, std::uint64_t members = 1,
                                      bool lead = true) noexcept;

// Seconds as whole nanoseconds, at least 1 (saturating): what the plan deals units by.
[[nodiscard]] std::uint64_t nanoseconds(double seconds) noexcept;

struct phase_seconds {
  double matching = 0;  // the matching phases, as every rank waits for them
  // The hidden-dimension matching's rotation (cross products and SVDs of the residual width),
  // spent only when neither B as it is nor the recovered permutation already fits (an unrelated
  // or rotated pair): the matching phase takes `matching` without it, `matching + rotation` with.
  double rotation = 0;
  double blocks = 0, nulls = 0, other = 0;

  [[nodiscard]] double least() const noexcept { return matching + blocks + nulls + other; }
  [[nodiscard]] double most() const noexcept { return least() + rotation; }
};

// The kinds of unit whose rates differ (a null by its form). A machine's speed is one factor per kind.
enum class unit_kind : std::uint8_t {
  null_cyclic,
  null_products,
  null_rows,
  null_columns,
  cross_layer,
  neuron_match,
  fingerprint,
  expert_match,
  head_match,
  hidden_match,
  hidden_rotation,
};
inline constexpr std::size_t unit_kind_count = 11;
[[nodiscard]] std::string_view unit_kind_name(unit_kind kind) noexcept;
[[nodiscard]] unit_kind kind_of(const null_request& request) noexcept;
[[nodiscard]] constexpr unit_kind kind_of(const cross_layer_request&) noexcept { return unit_kind::cross_layer; }
[[nodiscard]] constexpr unit_kind kind_of(const neuron_match_request&) noexcept { return unit_kind::neuron_match; }
[[nodiscard]] constexpr unit_kind kind_of(const fingerprint_request&) noexcept { return unit_kind::fingerprint; }

// How many times faster than the machine the rates above were fitted on this machine computes
// each kind of unit (1: as fast; measured by probe/speed_probe.hpp). The blocks' and content
// units' speed is the caller's read rate.
struct machine_speed {
  std::array<double, unit_kind_count> factors{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};

  [[nodiscard]] double of(unit_kind kind) const noexcept { return factors[static_cast<std::size_t>(kind)]; }
  double& of(unit_kind kind) noexcept { return factors[static_cast<std::size_t>(kind)]; }
};

// Per rank: the phases of `plan` with its units dealt, blocks and content units read at
// `read_bytes_per_second` per rank, each unit's seconds divided by `speed`'s factor of its kind.
[[nodiscard]] std::vector<phase_seconds> estimate_phases(const work_plan& plan, double read_bytes_per_second,
                                                         const machine_speed& speed = {});

}  // namespace lineage
