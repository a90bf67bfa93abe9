#include "reduce/block_results.hpp"

#include <fmt/format.h>

#include <optional>

#include "core/error.hpp"
#include "shard/archive_bytes.hpp"

namespace lineage {

std::vector<char> serialize_results(const rank_results& results) { return to_bytes(results); }
rank_results deserialize_results(const std::vector<char>& bytes) { return from_bytes<rank_results>(bytes); }
std::vector<char> serialize_rank_run(const rank_run& run) { return to_bytes(run); }
rank_run deserialize_rank_run(const std::vector<char>& bytes) { return from_bytes<rank_run>(bytes); }

std::vector<pair_moments> merge_in_plan_order(const work_plan& plan,
                                              const std::vector<rank_results>& per_rank) {
  std::vector<std::optional<pair_moments>> by_block(plan.blocks.size());
  for (const auto& results : per_rank)
    for (const auto& result : results.blocks) {
      if (result.block >= by_block.size() || by_block[result.block])
        throw internal_error(fmt::format("block {} reported twice or out of range", result.block));
      by_block[result.block] = result.moments;
    }
  std::vector<pair_moments> merged(plan.pairs.size());
  for (std::size_t p = 0; p < plan.pairs.size(); ++p) {
    const auto& pair = plan.pairs[p];
    for (std::uint64_t i = pair.first_block; i < pair.first_block + pair.block_count; ++i) {
      if (!by_block[i]) throw internal_error(fmt::format("block {} of pair {} was not computed", i, p));
      merged[p].merge(*by_block[i]);
    }
  }
  return merged;
}

std::vector<null_samples> nulls_by_pair(const work_plan& plan, const std::vector<rank_results>& per_rank) {
  std::vector<null_samples> by_pair(plan.pairs.size());
  for (std::size_t p = 0; p < by_pair.size(); ++p) {
    by_pair[p].pair = static_cast<std::uint32_t>(p);
    by_pair[p].reason = "no null planned";
  }
  std::vector<bool> seen(plan.pairs.size(), false), planned(plan.pairs.size(), false);
  for (const auto& request : plan.nulls) planned[request.pair] = true;
  for (const auto& results : per_rank)
    for (const auto& samples : results.nulls) {
      if (samples.pair >= by_pair.size() || seen[samples.pair] || !planned[samples.pair])
        throw internal_error(
            fmt::format("null of pair {} reported twice, out of range or not planned", samples.pair));
      seen[samples.pair] = true;
      by_pair[samples.pair] = samples;
    }
  for (const auto& request : plan.nulls)
    if (!seen[request.pair]) throw internal_error(fmt::format("null of pair {} was not computed", request.pair));
  return by_pair;
}

namespace {

// The results of `count` units, gathered from every rank's `member` list, in unit order. Throws
// internal_error if one is missing or repeated.
template <typename Result>
std::vector<Result> units_in_plan_order(std::size_t count, const std::vector<rank_results>& per_rank,
                                        std::vector<Result> rank_results::*member, const char* what) {
  std::vector<std::optional<Result>> ordered(count);
  for (const auto& results : per_rank)
    for (const auto& result : results.*member) {
      if (result.request >= ordered.size() || ordered[result.request])
        throw internal_error(fmt::format("{} unit {} reported twice or out of range", what, result.request));
      ordered[result.request] = result;
    }
  std::vector<Result> all;
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    if (!ordered[i]) throw internal_error(fmt::format("{} unit {} was not computed", what, i));
    all.push_back(std::move(*ordered[i]));
  }
  return all;
}

}  // namespace

std::vector<cross_layer_result> cross_layers_in_plan_order(const work_plan& plan,
                                                           const std::vector<rank_results>& per_rank) {
  return units_in_plan_order(plan.cross_layers.size(), per_rank, &rank_results::cross_layers, "cross-layer");
}

std::vector<expert_match_result> expert_matches_in_plan_order(const work_plan& plan,
                                                              const std::vector<rank_results>& per_rank) {
  return units_in_plan_order(plan.expert_matches.size(), per_rank, &rank_results::expert_matches,
                             "expert-matching");
}

std::vector<neuron_match_result> neuron_matches_in_plan_order(const work_plan& plan,
                                                              const std::vector<rank_results>& per_rank) {
  return units_in_plan_order(plan.neuron_matches.size(), per_rank, &rank_results::neuron_matches, "neuron-matching");
}

std::vector<hidden_match_result> hidden_matches_in_plan_order(const work_plan& plan,
                                                              const std::vector<rank_results>& per_rank) {
  return units_in_plan_order(plan.hidden_matches.size(), per_rank, &rank_results::hidden_matches, "hidden-matching");
}

std::vector<fingerprint_result> fingerprints_in_plan_order(const work_plan& plan,
                                                           const std::vector<rank_results>& per_rank) {
  return units_in_plan_order(plan.fingerprints.size(), per_rank, &rank_results::fingerprints, "fingerprint");
}

std::vector<head_match_result> head_matches_in_plan_order(const work_plan& plan,
                                                          const std::vector<rank_results>& per_rank) {
  return units_in_plan_order(plan.head_matches.size(), per_rank, &rank_results::head_matches, "head-matching");
}

}  // namespace lineage
