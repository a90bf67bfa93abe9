// Neuron matching of one MLP at real size (issue 4: "matching a 4096 × 4096 layer takes seconds on
// one rank"; issue 20: matchings at near-pass cost), beside the element-aligned statistics of the
// same three tensor pairs measured in the same run, and their ratio.
//   bench_neuron_match [--neurons N] [--hidden H] [--vocab V] [--drifts 0.5,4,8,16] [--no-dense] [--work DIR]
// Pairs: derivatives of A at each drift (B = A after a fine-tune-like change of that strength) and
// an unrelated model (the assignments of unrelated neurons are the dense path's hard case). Each
// pair is matched as the plan asks (a sample of A's neurons, candidates from a coarse pass when the
// MLP is wide) and, as the reference, densely: every neuron against every neuron on every compared
// dimension. Spearman's ρ of the two matchings (gate rows, up rows) and its z = ρ √(ranked − 1).
// The hidden-dimension matching of the embeddings and the head matching of the layer are timed
// beside it, once per pair.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "job/comparison_steps.hpp"
#include "shard/block_compute.hpp"
#include "shard/head_match.hpp"
#include "shard/hidden_match.hpp"
#include "shard/neuron_match.hpp"
#include "synth/synth.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

struct matched {
  double seconds = 0, spearman = 0, z = 0;
};

matched run(const lineage::neuron_match_request& request, lineage::block_reader& reader) {
  const auto start = clock_type::now();
  const auto result = lineage::compute_neuron_match(0, request, reader);
  matched m;
  m.seconds = seconds_since(start);
  m.spearman = result.spearman;
  m.z = result.spearman * std::sqrt(static_cast<double>(result.ranked) - 1);
  return m;
}

struct measured {
  matched planned, dense;
  double statistics = 0;
  double hidden_matching = 0, head_matching = 0;
};

measured measure(const std::filesystem::path& a, const std::filesystem::path& b, bool dense) {
  lineage::compare_config config;
  config.model_a = a.string();
  config.model_b = b.string();
  config.block_elements = lineage::default_block_elements;
  // The first plan awaits the hidden matching; neuron matching is planned after every phase.
  lineage::work_plan plan = lineage::plan_comparison(config, 1);
  std::vector<std::filesystem::path> files_a(plan.model_a.files.begin(), plan.model_a.files.end());
  std::vector<std::filesystem::path> files_b(plan.model_b.files.begin(), plan.model_b.files.end());
  lineage::block_reader reader(files_a, files_b);
  measured m;
  auto start = clock_type::now();
  if (!plan.hidden_matches.empty()) {
    (void)lineage::compute_hidden_match(0, plan.hidden_matches[0], reader);
    m.hidden_matching = seconds_since(start);
  }
  while (plan.awaits_matching())
    plan = lineage::plan_after_matching(config, 1, plan, {lineage::compute_matching_share(plan, lineage::solo_team{})});
  if (plan.neuron_matches.empty()) throw std::runtime_error("no MLP to match");
  m.planned = run(plan.neuron_matches[0], reader);
  if (dense) {
    lineage::neuron_match_request all = plan.neuron_matches[0];
    all.sample = all.coarse_columns = all.candidates = 0;
    m.dense = run(all, reader);
  }
  if (!plan.head_matches.empty()) {
    start = clock_type::now();
    (void)lineage::compute_head_match(0, plan.head_matches[0], reader);
    m.head_matching = seconds_since(start);
  }
  // The reference: the fused statistics kernel over the same MLP's three tensor pairs.
  start = clock_type::now();
  double sink = 0;
  for (const auto& block : plan.blocks)
    if (plan.pairs[block.pair].key.role.find("mlp.") == 0) sink += reader.compute(block).sum_ab;
  m.statistics = seconds_since(start);
  if (sink == 12345.678) fmt::print("");  // keep the reference from being optimised away
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  lineage::synth::model_shape shape;
  shape.layers = 1;
  shape.hidden = 2048;
  shape.intermediate = 5632;
  shape.heads = 16;
  shape.kv_heads = 16;
  shape.vocab = 8192;
  std::vector<double> drifts{0.5, 4, 8, 16};
  bool no_dense = false;
  std::string work = (std::filesystem::temp_directory_path() / "lineage-bench-neurons").string();
  CLI::App app{"Neuron matching of one MLP at real size"};
  app.add_option("--neurons", shape.intermediate, "neurons of the MLP");
  app.add_option("--hidden", shape.hidden, "hidden size");
  app.add_option("--vocab", shape.vocab, "vocabulary (embedding rows; the hidden matching compares up to 8192)");
  app.add_option("--drifts", drifts, "drift strengths of the derivatives")->delimiter(',');
  app.add_flag("--no-dense", no_dense, "skip the dense reference (slow for wide MLPs)");
  app.add_option("--work", work, "scratch directory for the models");
  CLI11_PARSE(app, argc, argv);
  const std::filesystem::path dir = work;
  std::filesystem::create_directories(dir);
  lineage::synth::write_independent_model(shape, 1, dir / "a", {});
  lineage::synth::write_independent_model(shape, 2, dir / "unrelated", {});
  std::vector<std::pair<std::string, std::filesystem::path>> pairs;
  for (const double scale : drifts) {
    lineage::synth::derivation drift;
    drift.kind = lineage::synth::derivation_kind::drift;
    drift.scale = scale;
    const auto name = fmt::format("drift {}", scale);
    const auto path = dir / fmt::format("derived-{}", pairs.size());
    lineage::synth::write_derived_model(dir / "a", path, drift);
    pairs.emplace_back(name, path);
  }
  pairs.emplace_back("unrelated", dir / "unrelated");

  fmt::print("one MLP: {} neurons x {} hidden (gate, up, down; BF16)\n", shape.intermediate, shape.hidden);
  fmt::print("{:<10} {:>10} {:>9} {:>7} {:>10} {:>9} {:>7} {:>8} {:>12} {:>9} {:>9}\n", "pair", "planned s", "rho",
             "z", "dense s", "rho", "z", "speed-up", "statistics s", "hidden s", "heads s");
  for (const auto& [name, path] : pairs) {
    const measured m = measure(dir / "a", path, !no_dense);
    fmt::print("{:<10} {:>10.3f} {:>9.4f} {:>7.1f} {:>10.3f} {:>9.4f} {:>7.1f} {:>8.1f} {:>12.3f} {:>9.2f} {:>9.2f}\n",
               name, m.planned.seconds, m.planned.spearman, m.planned.z, m.dense.seconds, m.dense.spearman, m.dense.z,
               no_dense ? 0.0 : m.dense.seconds / m.planned.seconds, m.statistics, m.hidden_matching, m.head_matching);
    fmt::print("{:<10} planned / statistics {:.1f}x\n", "", m.planned.seconds / m.statistics);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
