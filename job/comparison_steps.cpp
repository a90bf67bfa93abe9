#include "job/comparison_steps.hpp"

#include <chrono>
#include <filesystem>
#include <optional>

#include "checkpoint/checkpoint.hpp"
#include "checkpoint/mapping_guard.hpp"
#include "core/error.hpp"
#include "core/resource_usage.hpp"
#include "job/content_units.hpp"
#include "job/tokenizer_evidence.hpp"
#include "plan/memory_budget.hpp"
#include "shard/block_compute.hpp"
#include "shard/cross_layer.hpp"
#include "shard/expert_match.hpp"
#include "shard/fingerprint.hpp"
#include "shard/head_match.hpp"
#include "shard/hidden_match.hpp"
#include "shard/kernel.hpp"
#include "shard/neuron_match.hpp"

namespace lineage {
block_reader plan_reader(const work_plan& plan) {
  return {{plan.model_a.files.begin(), plan.model_a.files.end()},
          {plan.model_b.files.begin(), plan.model_b.files.end()},
          plan.reading};
}

work_plan plan_comparison(const compare_config& config, int ranks, matching_so_far matched,
                          content_options content) {
  const auto registry = architecture_registry::load(
      config.arch_dir ? std::optional<std::filesystem::path>(*config.arch_dir) : std::nullopt);
  const checkpoint a = open_checkpoint(config.model_a);
  const checkpoint b = open_checkpoint(config.model_b);
  plan_options options;
  options.block_elements = config.block_elements;
  options.ranks = ranks;
  options.nulls = {.permutations_vector = config.permutations_vector,
                   .permutations_matrix = config.permutations_matrix,
                   .seed = config.seed,
                   .permutations_experts = config.permutations_experts,
                   .match_neurons = config.match_neurons,
                   .permutations_neurons = config.permutations_neurons,
                   .match_hidden = config.match_hidden,
                   .match_heads = config.match_heads,
                   .permutations_heads = config.permutations_heads,
                   .cross_layer = config.cross_layer,
                   .fingerprints = config.fingerprints,
                   .permutations_products = config.permutations_products,
                   .draws = config.draws};
  options.expert_matching = matched.experts;
  options.hidden_matching = matched.hidden;
  options.head_matching = matched.heads;
  options.content = matched.earlier != nullptr ? matched.earlier->content.options : content;
  token_pairing pairing;
  std::string report;
  if (matched.earlier != nullptr) {
    pairing = matched.earlier->token_pairs;
    report = matched.earlier->tokenizers;
  } else if (config.tokenizers) {
    tokenizer_evidence tokens = read_tokenizer_evidence(config.model_a, config.model_b);
    pairing = std::move(tokens.pairing);
    report = tokens.report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    report = nlohmann::json{{"available", false},
                            {"reason", "tokenizers switched off (tokenizers: false or --no-tokenizers): embeddings "
                                       "compared by token id"}}
                 .dump();
  }
  options.tokens = &pairing;
  work_plan plan = make_plan(a, b, registry, options);
  plan.tokenizers = std::move(report);
  plan.token_pairs = std::move(pairing);
  release_freed_memory();
  plan.reading = reading_within_budget(plan, config.memory_budget,
                                       config.io == io_mode::read ? read_method::read : read_method::map,
                                       current_resident_bytes());
  return plan;
}

namespace {

// Calls `compute` and, with `seconds`, appends how long it took.
template <class Compute>
auto timed(std::vector<double>* seconds, Compute&& compute) {
  const auto start = std::chrono::steady_clock::now();
  auto result = compute();
  if (seconds != nullptr)
    seconds->push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return result;
}

rank_results compute_matching_units(const work_plan& plan, const unit_team& team, matching_unit_seconds* seconds) {
  const int rank = team.member();
  block_reader reader = plan_reader(plan);
  rank_results results;
  const auto list = [seconds](std::vector<double> matching_unit_seconds::*kind) {
    return seconds == nullptr ? nullptr : &(seconds->*kind);
  };
  if (plan.awaits_hidden_matching()) {
    // Every rank computes each hidden unit with the others; the rank it was dealt to keeps it.
    for (std::size_t i = 0; i < plan.hidden_matches.size(); ++i) {
      const auto lead = static_cast<int>(plan.hidden_match_rank[i]);
      hidden_match_result result = timed(list(&matching_unit_seconds::hidden), [&] {
        return compute_hidden_match(static_cast<std::uint32_t>(i), plan.hidden_matches[i], reader, team, lead);
      });
      if (lead == rank) results.hidden_matches.push_back(std::move(result));
    }
    return results;
  }
  for (std::size_t i = 0; i < plan.expert_matches.size(); ++i)
    if (plan.expert_match_rank[i] == static_cast<std::uint32_t>(rank))
      results.expert_matches.push_back(timed(list(&matching_unit_seconds::experts), [&] {
        return compute_expert_match(static_cast<std::uint32_t>(i), plan.expert_matches[i], reader);
      }));
  for (std::size_t i = 0; i < plan.head_matches.size(); ++i)
    if (plan.head_match_rank[i] == static_cast<std::uint32_t>(rank))
      results.head_matches.push_back(timed(list(&matching_unit_seconds::heads), [&] {
        return compute_head_match(static_cast<std::uint32_t>(i), plan.head_matches[i], reader);
      }));
  return results;
}

}  // namespace

rank_results compute_matching_share(const work_plan& plan, const unit_team& team, matching_unit_seconds* seconds) {
  rank_results results = compute_matching_units(plan, team, seconds);
  throw_if_a_mapping_faulted();  // zeros read past a shrunk file's end reach no result
  return results;
}

work_plan plan_after_matching(const compare_config& config, int ranks, const work_plan& plan,
                              const std::vector<rank_results>& per_rank) {
  if (plan.awaits_hidden_matching()) {
    const auto hidden = hidden_matches_in_plan_order(plan, per_rank);
    return plan_comparison(config, ranks, {&hidden, nullptr, nullptr, &plan});
  }
  const auto experts = expert_matches_in_plan_order(plan, per_rank);
  const auto heads = head_matches_in_plan_order(plan, per_rank);
  return plan_comparison(config, ranks,
                         {plan.hidden_matches.empty() ? nullptr : &plan.hidden_matching,
                          plan.expert_matches.empty() ? nullptr : &experts, plan.head_matches.empty() ? nullptr : &heads, &plan});
}

null_samples compute_null(const work_plan& plan, std::size_t index, block_reader& reader) {
  const null_request& request = plan.nulls.at(index);
  const auto alignment = [&](std::int32_t at) -> const b_alignment* {
    return at < 0 ? nullptr : &plan.alignments.at(static_cast<std::size_t>(at));
  };
  const b_alignment* reader_alignment = alignment(plan.pairs.at(request.pair).alignment);
  std::optional<block_reader::norm_source> norm;
  if (request.norm_pair != null_request::no_norm) {
    const tensor_pair& pair = plan.pairs.at(request.norm_pair);
    norm = block_reader::norm_source{{pair.a.file, pair.a.byte_offset, pair.a.type},
                                     {pair.b.file, pair.b.byte_offset, pair.b.type},
                                     pair.a.elements,
                                     {}};
    // B's norm in the order the reader's columns are read (the hidden order), without the signs.
    if (reader_alignment != nullptr)
      for (const std::uint32_t c : reader_alignment->column_order) norm->columns_b.push_back(index_of(c));
  }
  return reader.compute(request, reader_alignment, norm ? &*norm : nullptr,
                        request.rotate != 0 ? std::span<const float>(plan.hidden_rotation) : std::span<const float>{});
}

std::vector<share_unit> share_units(const work_plan& plan, int rank) {
  using kind = share_unit::kind;
  const auto r = static_cast<std::size_t>(rank);
  std::vector<share_unit> units;
  for (auto i = plan.rank_first_block.at(r); i < plan.rank_first_block.at(r + 1); ++i) {
    const work_block& block = plan.blocks[i];
    units.push_back({kind::block, i, block.elements * (dtype_size(block.a.type) + dtype_size(block.b.type))});
  }
  // The manifest's hashes right after the blocks: a saved state can then be checked against the
  // model bytes by the hashes of everything its later units read (job/saved_work_check.hpp).
  for (std::size_t i = 0; i < plan.content.units.size(); ++i)
    if (plan.content.unit_rank[i] == r) units.push_back({kind::content, i, plan.content.units[i].bytes});
  for (std::size_t i = 0; i < plan.nulls.size(); ++i)
    if (plan.null_rank[i] == r) {
      const null_request& request = plan.nulls[i];
      units.push_back({kind::null, i,
                       request.elements_a() * dtype_size(request.a.type) +
                           request.elements_b() * dtype_size(request.b.type)});
    }
  const auto add = [&](kind what, const std::vector<std::uint32_t>& unit_rank) {
    for (std::size_t i = 0; i < unit_rank.size(); ++i)
      if (unit_rank[i] == r) units.push_back({what, i, 0});
  };
  add(kind::cross_layer, plan.cross_layer_rank);
  add(kind::neuron_match, plan.neuron_match_rank);
  add(kind::fingerprint, plan.fingerprint_rank);
  return units;
}

namespace {

void compute_unit_of_its_kind(const work_plan& plan, const share_unit& unit, block_reader& reader,
                              rank_results& results) {
  const auto index = static_cast<std::uint32_t>(unit.index);
  switch (unit.what) {
    case share_unit::kind::block: {
      const work_block& block = plan.blocks.at(unit.index);
      const b_alignment* alignment =
          block.alignment < 0 ? nullptr : &plan.alignments.at(static_cast<std::size_t>(block.alignment));
      // The manifest's hashes of the block's ranges come with the read (content_units.hpp).
      const bool hashing = plan.content.options.digests;
      block_reader::range_hashes hashes;
      results.blocks.push_back(
          {unit.index, pair_moments::from_block(reader.compute(block, alignment, hashing ? &hashes : nullptr))});
      if (hashing) record_block_hashes(plan, unit.index, hashes, results);
      return;
    }
    case share_unit::kind::null:
      results.nulls.push_back(compute_null(plan, unit.index, reader));
      return;
    case share_unit::kind::cross_layer:
      results.cross_layers.push_back(compute_cross_layer(index, plan.cross_layers.at(unit.index), reader));
      return;
    case share_unit::kind::neuron_match:
      results.neuron_matches.push_back(compute_neuron_match(index, plan.neuron_matches.at(unit.index), reader));
      return;
    case share_unit::kind::fingerprint:
      results.fingerprints.push_back(compute_fingerprint(index, plan.fingerprints.at(unit.index), reader));
      return;
    case share_unit::kind::content:
      compute_content_unit(plan, unit.index, reader, results);
      return;
  }
  throw internal_error("compute_unit: unknown kind of unit");
}

}  // namespace

void compute_unit(const work_plan& plan, const share_unit& unit, block_reader& reader, rank_results& results) {
  compute_unit_of_its_kind(plan, unit, reader, results);
  throw_if_a_mapping_faulted();  // a failed unit ends the job: its results are never reduced or saved
}

rank_results compute_share(const work_plan& plan, int rank) {
  block_reader reader = plan_reader(plan);
  rank_results results;
  for (const share_unit& unit : share_units(plan, rank)) compute_unit(plan, unit, reader, results);
  return results;
}

comparison_report reduce_comparison(const work_plan& plan, const std::vector<rank_results>& per_rank,
                                    run_manifest manifest, const analysis_options& analysis) {
  comparison_report report = build_report(
      plan, merge_in_plan_order(plan, per_rank), nulls_by_pair(plan, per_rank),
      {cross_layers_in_plan_order(plan, per_rank), neuron_matches_in_plan_order(plan, per_rank),
       fingerprints_in_plan_order(plan, per_rank)},
      std::move(manifest), analysis);
  report.content = content_in_plan_order(plan, per_rank);
  return report;
}

namespace {

// Plan, match experts, compute and merge in this process.
std::pair<work_plan, std::vector<rank_results>> compute_in_process(const compare_config& config,
                                                                    content_options content) {
  work_plan plan = plan_comparison(config, 1, {}, content);
  while (plan.awaits_matching())
    plan = plan_after_matching(config, 1, plan, {compute_matching_share(plan, solo_team{})});
  std::vector<rank_results> results{compute_share(plan, 0)};
  return {std::move(plan), std::move(results)};
}

}  // namespace

content_options panel_content() { return {false, false}; }

panel_comparison panel_member(const compare_config& member, std::size_t index, const work_plan& plan,
                              const std::vector<rank_results>& per_rank) {
  return panel_from_report(reduce_comparison(plan, per_rank, {}, {member.alpha, member.seed, {}}),
                           index % 2 == 0 ? 'a' : 'b', "this job");
}

comparison_report compare_in_process(const compare_config& config) {
  const auto [plan, results] = compute_in_process(config, {});
  // The same order as the MPI job: panel reports, then the job's own panel comparisons.
  analysis_options analysis{config.alpha, config.seed, {}};
  for (const auto& report : config.panel_reports)
    analysis.panel.push_back(read_panel_report(report, plan.model_a, plan.model_b));
  for (std::size_t i = 0; i < 2 * config.reference_panel.size(); ++i) {
    const compare_config member = panel_member_config(config, i);
    const auto [member_plan, member_results] = compute_in_process(member, panel_content());
    analysis.panel.push_back(panel_member(member, i, member_plan, member_results));
  }
  run_manifest manifest;
  manifest.config_json = config.to_json().dump();
  manifest.kernel = best_kernel().name;
  manifest.block_elements = plan.block_elements;
  return reduce_comparison(plan, results, std::move(manifest), analysis);
}

}  // namespace lineage
