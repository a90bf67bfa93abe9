#include "mpi/comparison_steps.hpp"

#include <filesystem>

#include "shard/block_compute.hpp"
#include "shard/checkpoint.hpp"
#include "shard/cross_layer.hpp"
#include "shard/kernel.hpp"

namespace lineage {
namespace {
std::vector<std::filesystem::path> as_paths(const std::vector<std::string>& files) {
  return {files.begin(), files.end()};
}
}  // namespace

work_plan plan_comparison(const compare_config& config, int ranks) {
  const auto registry = architecture_registry::load(
      config.arch_dir ? std::optional<std::filesystem::path>(*config.arch_dir) : std::nullopt);
  const checkpoint a = open_checkpoint(config.model_a);
  const checkpoint b = open_checkpoint(config.model_b);
  plan_options options;
  options.block_elements = config.block_elements;
  options.ranks = ranks;
  options.nulls = {config.permutations_vector, config.permutations_matrix, config.seed};
  return make_plan(a, b, registry, options);
}

rank_results compute_share(const work_plan& plan, int rank) {
  block_reader reader(as_paths(plan.model_a.files), as_paths(plan.model_b.files));
  const auto first = plan.rank_first_block.at(static_cast<std::size_t>(rank));
  const auto last = plan.rank_first_block.at(static_cast<std::size_t>(rank) + 1);
  rank_results results;
  results.blocks.reserve(last - first);
  for (auto i = first; i < last; ++i)
    results.blocks.push_back({i, pair_moments::from_block(reader.compute(plan.blocks[i]))});
  for (std::size_t i = 0; i < plan.nulls.size(); ++i)
    if (plan.null_rank[i] == static_cast<std::uint32_t>(rank)) results.nulls.push_back(reader.compute(plan.nulls[i]));
  for (std::size_t i = 0; i < plan.cross_layers.size(); ++i)
    if (plan.cross_layer_rank[i] == static_cast<std::uint32_t>(rank))
      results.cross_layers.push_back(compute_cross_layer(static_cast<std::uint32_t>(i), plan.cross_layers[i], reader));
  return results;
}

comparison_report reduce_comparison(const work_plan& plan, const std::vector<rank_results>& per_rank,
                                    run_manifest manifest, const analysis_options& analysis) {
  return build_report(plan, merge_in_plan_order(plan, per_rank), nulls_by_pair(plan, per_rank),
                      cross_layers_in_plan_order(plan, per_rank), std::move(manifest), analysis);
}

comparison_report compare_in_process(const compare_config& config) {
  const work_plan plan = plan_comparison(config, 1);
  run_manifest manifest;
  manifest.config_json = config.to_json().dump();
  manifest.kernel = best_kernel().name;
  manifest.block_elements = plan.block_elements;
  return reduce_comparison(plan, {compute_share(plan, 0)}, std::move(manifest), {config.alpha, config.seed});
}

}  // namespace lineage
