#include "plan/time_estimate.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace lineage {
namespace {

// Cost units per second of one core (Intel Xeon, 2 cores, 2026-12-07; docs/PERFORMANCE.md, "Where
// lineage plan's estimate comes from"): scripts/bench-e2e's pairs at scales 1 and 4 (hidden 2048 and
// 4096; B = A + noise unless stated), page cache warm, one rank, with only that kind of unit
// switched on (the nulls: each unit timed); each rate sits between its two sizes' own rates (in
// brackets).
constexpr double rate_null_cyclic = 1.2e9;       // all n - 1 shifts by FFT (1.08e9 to 1.36e9)
// A null from products: the slices' cross products, then its draws, O(units) each; a draw of the
// heads' group (heads and the dimensions inside them) takes 5 times a plain one's (each pair fitted
// on the two sizes' units).
constexpr double rate_product_entries = 5.1e9;
constexpr double rate_product_draws = 9.6e8, rate_product_head_draws = 1.9e8;
// Direct draws, a pass each: docs/PERFORMANCE.md, "Permutation nulls with row directions" (4096 ×
// 4096 BF16, K = 50: rows 0.42 s, columns 1.04 s).
constexpr double rate_null_rows = 2.0e9;
constexpr double rate_null_columns = 8.2e8;
constexpr double rate_cross_layer = 3.2e8;       // (3.21e8, 3.28e8)
constexpr double rate_neuron_match = 1.3e10;     // (1.32e10, 1.30e10; 4 × 3 dot tiles, heap of candidates)
constexpr double rate_fingerprint = 1.85e10;     // B width-pruned by 1/8 (1.79e10, 1.90e10)
constexpr double rate_expert_match = 1.5e10;     // GLM MoE pairs, 32 and 64 experts (1.47e10, 1.51e10)
constexpr double rate_head_match = 8.2e9;        // (8.1e9, 8.5e9)
// The hidden matching, computed by all ranks together: the part each member does alone (reading
// and standardising every compared row, the assignments, Spearman's null), per element read, and
// its similarities, which the members share. Fitted on an AMD EPYC (2026-12-07 night) from the
// matching phase of scripts/bench-e2e's pairs at 1 and 2 ranks with only the hidden matching on
// (serial 13.7 and 13.3 ns per element read, similarities 4.6e10 and 3.7e10 per second; one rate
// for both measured the 2-rank phase 24-28 % too short) and divided by 1.26, the EPYC's speed
// over the single rate (1.1e10) this replaces at scale 1, so that they stay in the Xeon's units.
constexpr double rate_hidden_read = 5.9e7;
constexpr double rate_hidden_similarity = 3.25e10;
constexpr double rate_hidden_rotation = 1.7e10;  // B independent of A, less its matching (fitted on both)

double at(std::uint64_t cost, double rate) { return static_cast<double>(cost) / rate; }

// Adds each unit's seconds, at this machine's speed of its kind, to its rank's phase `phase`.
template <class Request>
void add_units(const std::vector<Request>& requests, const std::vector<std::uint32_t>& rank_of,
               const machine_speed& speed, std::vector<phase_seconds>& ranks, double phase_seconds::*phase) {
  if (rank_of.size() != requests.size()) throw internal_error("estimate_phases: units without their ranks");
  for (std::size_t i = 0; i < requests.size(); ++i)
    ranks.at(rank_of[i]).*phase += unit_seconds(requests[i]) / speed.of(kind_of(requests[i]));
}

// A matching phase ends when its slowest rank is done: every rank spends that long.
double slowest(const std::vector<double>& per_rank) {
  return per_rank.empty() ? 0.0 : *std::max_element(per_rank.begin(), per_rank.end());
}

double matching_seconds(const work_plan& plan, std::size_t ranks, const machine_speed& speed, double& rotation) {
  std::vector<double> hidden(ranks, 0.0), with_rotation(ranks, 0.0), second(ranks, 0.0);
  // Every rank computes each hidden unit with the others (shard/hidden_match.hpp); the rank it was
  // dealt to leads it (runs the rotation's SVDs).
  for (std::size_t i = 0; i < plan.hidden_matches.size(); ++i)
    for (std::size_t r = 0; r < ranks; ++r) {
      const hidden_match_request& request = plan.hidden_matches[i];
      const double own = unit_seconds(request, ranks) / speed.of(unit_kind::hidden_match);
      hidden.at(r) += own;
      with_rotation.at(r) += own + rotation_seconds(request, ranks, plan.hidden_match_rank.at(i) == r) /
                                       speed.of(unit_kind::hidden_rotation);
    }
  for (std::size_t i = 0; i < plan.expert_matches.size(); ++i)
    second.at(plan.expert_match_rank.at(i)) += unit_seconds(plan.expert_matches[i]) / speed.of(unit_kind::expert_match);
  for (std::size_t i = 0; i < plan.head_matches.size(); ++i)
    second.at(plan.head_match_rank.at(i)) += unit_seconds(plan.head_matches[i]) / speed.of(unit_kind::head_match);
  rotation = slowest(with_rotation) - slowest(hidden);
  return slowest(hidden) + slowest(second);
}

bool valid(const machine_speed& speed) noexcept {
  return std::all_of(speed.factors.begin(), speed.factors.end(), [](double f) { return f > 0 && std::isfinite(f); });
}

}  // namespace

std::string_view unit_kind_name(unit_kind kind) noexcept {
  static constexpr std::array<std::string_view, unit_kind_count> names{
      "null_cyclic",  "null_products", "null_rows",  "null_columns", "cross_layer",    "neuron_matching",
      "fingerprints", "expert_matching", "head_matching", "hidden_matching", "hidden_rotation"};
  return names[static_cast<std::size_t>(kind)];
}

unit_kind kind_of(const null_request& request) noexcept {
  if (request.from_products) return unit_kind::null_products;
  if (request.group.kind == symmetry_group::form::cyclic) return unit_kind::null_cyclic;
  return request.axis == 0 ? unit_kind::null_rows : unit_kind::null_columns;
}

double unit_seconds(const null_request& request) noexcept {
  const std::uint64_t cost = request.cost();
  if (request.from_products) {
    const std::uint64_t draws = (request.permutations + 1ull) * std::max<std::uint64_t>(1, request.tested_units());
    const double draw_rate =
        request.group.kind == symmetry_group::form::heads ? rate_product_head_draws : rate_product_draws;
    return at(cost - std::min(cost, draws), rate_product_entries) + at(std::min(cost, draws), draw_rate);
  }
  if (request.group.kind == symmetry_group::form::cyclic) return at(cost, rate_null_cyclic);
  return at(cost, request.axis == 0 ? rate_null_rows : rate_null_columns);
}
double unit_seconds(const cross_layer_request& request) noexcept { return at(request.cost(), rate_cross_layer); }
double unit_seconds(const neuron_match_request& request) noexcept { return at(request.cost(), rate_neuron_match); }
double unit_seconds(const fingerprint_request& request) noexcept { return at(request.cost(), rate_fingerprint); }
double unit_seconds(const expert_match_request& request) noexcept { return at(request.cost(), rate_expert_match); }
double unit_seconds(const head_match_request& request) noexcept { return at(request.cost(), rate_head_match); }
double unit_seconds(const hidden_match_request& request, std::uint64_t members) noexcept {
  return at(request.read_cost(), rate_hidden_read) +
         static_cast<double>(request.similarity_cost()) / static_cast<double>(std::max<std::uint64_t>(members, 1)) /
             rate_hidden_similarity;
}
double rotation_seconds(const hidden_match_request& request, std::uint64_t members, bool lead) noexcept {
  return at(request.member_rotation_cost(members, lead), rate_hidden_rotation);
}

std::uint64_t nanoseconds(double seconds) noexcept {
  const double ns = std::ceil(seconds * 1e9);
  return !(ns >= 1) ? 1 : ns >= 9.2e18 ? std::uint64_t{1} << 63 : static_cast<std::uint64_t>(ns);
}

std::vector<phase_seconds> estimate_phases(const work_plan& plan, double read_bytes_per_second,
                                           const machine_speed& speed) {
  if (!(read_bytes_per_second > 0)) throw internal_error("estimate_phases: the read rate must be positive");
  if (!valid(speed)) throw internal_error("estimate_phases: a machine speed factor must be positive and finite");
  const auto ranks = static_cast<std::size_t>(std::max(plan.ranks(), 1));
  std::vector<phase_seconds> out(ranks);
  for (std::size_t r = 0; r + 1 < plan.rank_first_block.size(); ++r)
    for (auto i = plan.rank_first_block[r]; i < plan.rank_first_block[r + 1]; ++i) {
      const work_block& block = plan.blocks[i];
      const auto bytes = static_cast<double>(block.elements * (dtype_size(block.a.type) + dtype_size(block.b.type)));
      out.at(r).blocks += bytes / read_bytes_per_second;
    }
  for (std::size_t i = 0; i < plan.content.units.size(); ++i)
    out.at(plan.content.unit_rank.at(i)).other += static_cast<double>(plan.content.units[i].bytes) / read_bytes_per_second;
  add_units(plan.nulls, plan.null_rank, speed, out, &phase_seconds::nulls);
  add_units(plan.cross_layers, plan.cross_layer_rank, speed, out, &phase_seconds::other);
  add_units(plan.neuron_matches, plan.neuron_match_rank, speed, out, &phase_seconds::other);
  add_units(plan.fingerprints, plan.fingerprint_rank, speed, out, &phase_seconds::other);
  double rotation = 0;
  const double matching = matching_seconds(plan, ranks, speed, rotation);
  for (phase_seconds& p : out) {
    p.matching = matching;
    p.rotation = rotation;
  }
  return out;
}

}  // namespace lineage
