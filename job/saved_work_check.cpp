#include "job/saved_work_check.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "core/content_hash.hpp"
#include "job/comparison_steps.hpp"
#include "job/content_units.hpp"
#include "plan/plan_io.hpp"

namespace lineage {
namespace {

using kind = share_unit::kind;
// (kind, index) of a unit's result; content hashes as (side, range) and (side, file) with a tag.
using result_key = std::tuple<int, std::uint64_t, std::uint64_t>;
constexpr int range_tag = 100, file_tag = 101;

// What the first `done` units of `units` must have produced.
std::vector<result_key> expected_results(const work_plan& plan, const std::vector<share_unit>& units, std::uint64_t done) {
  std::vector<result_key> keys;
  for (std::uint64_t u = 0; u < done; ++u) {
    const share_unit& unit = units[u];
    switch (unit.what) {
      case kind::block:
        keys.emplace_back(static_cast<int>(kind::block), unit.index, 0);
        if (!plan.content.options.digests) break;
        if (const auto a = plan.content.block_range_a.at(unit.index); a != no_range)
          keys.emplace_back(range_tag, 0, static_cast<std::uint64_t>(a));
        if (const auto b = plan.content.block_range_b.at(unit.index); b != no_range)
          keys.emplace_back(range_tag, 1, static_cast<std::uint64_t>(b));
        break;
      case kind::null:
        keys.emplace_back(static_cast<int>(kind::null), plan.nulls.at(unit.index).pair, 0);
        break;
      case kind::content: {
        const content_unit& content = plan.content.units.at(unit.index);
        keys.emplace_back(content.whole_file ? file_tag : range_tag, content.side, content.index);
        break;
      }
      default:
        keys.emplace_back(static_cast<int>(unit.what), unit.index, 0);
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::vector<result_key> saved_results(const rank_results& results) {
  std::vector<result_key> keys;
  for (const auto& r : results.blocks) keys.emplace_back(static_cast<int>(kind::block), r.block, 0);
  for (const auto& r : results.nulls) keys.emplace_back(static_cast<int>(kind::null), r.pair, 0);
  for (const auto& r : results.cross_layers) keys.emplace_back(static_cast<int>(kind::cross_layer), r.request, 0);
  for (const auto& r : results.neuron_matches) keys.emplace_back(static_cast<int>(kind::neuron_match), r.request, 0);
  for (const auto& r : results.fingerprints) keys.emplace_back(static_cast<int>(kind::fingerprint), r.request, 0);
  for (const auto& r : results.range_hashes) keys.emplace_back(range_tag, r.side, r.range);
  for (const auto& r : results.file_hashes) keys.emplace_back(file_tag, r.side, r.file);
  std::sort(keys.begin(), keys.end());
  return keys;
}

// Units that read only what their own recorded hashes cover: blocks that hash both sides' ranges
// (not B through an alignment), and content units.
bool covered_by_its_own_hashes(const work_plan& plan, const share_unit& unit) {
  if (unit.what == kind::content) return true;
  return unit.what == kind::block && plan.content.block_range_a.at(unit.index) != no_range &&
         plan.content.block_range_b.at(unit.index) != no_range;
}

// The ranks' results after the share checks, or the problem.
std::string check_shares(const work_plan& plan, const saved_comparison& state, std::vector<rank_results>& per_rank,
                         bool& needs_every_range) {
  for (std::size_t r = 0; r < state.shares.size(); ++r) {
    const saved_share& share = state.shares[r];
    const std::vector<share_unit> units = share_units(plan, static_cast<int>(r));
    if (share.units_done > units.size())
      return fmt::format("rank {}'s share claims {} finished units of the {} the plan gives it", r, share.units_done,
                         units.size());
    try {
      per_rank.push_back(deserialize_results(share.results));
    } catch (const std::exception& e) {
      return fmt::format("rank {}'s results cannot be decoded: {}", r, e.what());
    }
    const rank_results& results = per_rank.back();
    if (!results.expert_matches.empty() || !results.hidden_matches.empty() || !results.head_matches.empty() ||
        saved_results(results) != expected_results(plan, units, share.units_done))
      return fmt::format("rank {}'s results are not those of its {} finished units", r, share.units_done);
    for (std::uint64_t u = 0; u < share.units_done; ++u)
      needs_every_range = needs_every_range || !covered_by_its_own_hashes(plan, units[u]);
  }
  return {};
}

// The saved hashes read again from the models as they are now.
std::string check_bytes(const work_plan& plan, const std::vector<rank_results>& per_rank, bool needs_every_range) {
  std::set<std::pair<int, std::uint64_t>> saved;
  for (const rank_results& results : per_rank)
    for (const range_hash& h : results.range_hashes) saved.emplace(h.side, h.range);
  if (needs_every_range &&
      (!plan.content.options.digests || saved.size() < plan.content.a.ranges.size() + plan.content.b.ranges.size()))
    return "its units read tensors whose bytes its saved hashes do not cover (the job stopped while ranks were in "
               "different phases, or without the manifest's digests), so they cannot be checked against the models";
  block_reader reader = plan_reader(plan);
  for (const rank_results& results : per_rank) {
    for (const range_hash& h : results.range_hashes)
      if (hash_content_range(plan, h.side, h.range, reader) != h.hash) {
        const model_content& model = plan.content.side(h.side);
        const hashed_range& range = model.ranges.at(h.range);
        return fmt::format("model {}'s bytes changed since the work was saved (tensor '{}', bytes [{}, {}) differ)",
                           h.side == 0 ? 'A' : 'B', model.tensors.at(range.tensor).name, range.offset,
                           range.offset + range.length);
      }
    for (const file_hash& h : results.file_hashes)
      if (sha256_file(plan.content.side(h.side).files.at(h.file).path) != h.sha256)
        return fmt::format("{} changed since the work was saved (its SHA-256 differs)",
                           plan.content.side(h.side).files.at(h.file).path);
  }
  return {};
}

}  // namespace

std::uint64_t plan_digest(const work_plan& plan) {
  work_plan without_windows = plan;
  without_windows.reading = {};
  const std::vector<char> bytes = serialize_plan(without_windows);
  return fast_hash({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()});
}

std::string saved_work_problem(const work_plan& plan, const saved_comparison& state) {
  if (state.plan_digest != plan_digest(plan))
    return "saved with another plan after the matching phases (the models' bytes or the lineage build changed)";
  if (state.shares.size() != static_cast<std::size_t>(plan.ranks()))
    return fmt::format("holds {} shares for {} ranks", state.shares.size(), plan.ranks());
  std::vector<rank_results> per_rank;
  bool needs_every_range = false;
  if (std::string problem = check_shares(plan, state, per_rank, needs_every_range); !problem.empty()) return problem;
  return check_bytes(plan, per_rank, needs_every_range);
}

}  // namespace lineage
