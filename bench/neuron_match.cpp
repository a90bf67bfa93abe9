// Neuron matching of one MLP at real size (issue 4: "matching a 4096 × 4096 layer takes seconds on
// one rank"), beside the element-aligned statistics of the same three tensor pairs measured in
// the same run, and their ratio.
// The hidden-dimension matching of the same models' embeddings (H × 8192 shared rows) and the
// head matching of the layer's attention (32 heads, 8 KV heads, 1024 hidden dimensions compared)
// are timed beside it.
//   bench_neuron_match [--neurons N] [--hidden H] [--vocab V] [--work DIR]
// Two pairs: a fine-tuned derivative (drift 0.5; the matchings find the identity quickly) and an
// unrelated model (the assignments of unrelated neurons are the hard case).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
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

struct measured {
  double matching = 0, statistics = 0, spearman = 0;
  double hidden_matching = 0, hidden_spearman = 0;  // the embedding's hidden dimensions
  double head_matching = 0, head_spearman = 0;      // the attention heads of the layer
};

measured measure(const std::filesystem::path& a, const std::filesystem::path& b) {
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
    const auto hidden = lineage::compute_hidden_match(0, plan.hidden_matches[0], reader);
    m.hidden_matching = seconds_since(start);
    m.hidden_spearman = hidden.spearman;
  }
  while (plan.awaits_matching())
    plan = lineage::plan_after_matching(config, 1, plan, {lineage::compute_matching_share(plan, 0)});
  if (plan.neuron_matches.empty()) throw std::runtime_error("no MLP to match");
  start = clock_type::now();
  const auto result = lineage::compute_neuron_match(0, plan.neuron_matches[0], reader);
  m.matching = seconds_since(start);
  m.spearman = result.spearman;
  if (!plan.head_matches.empty()) {
    start = clock_type::now();
    const auto heads = lineage::compute_head_match(0, plan.head_matches[0], reader);
    m.head_matching = seconds_since(start);
    m.head_spearman = heads.spearman;
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
  shape.hidden = 4096;
  shape.intermediate = 4096;
  shape.heads = 32;
  shape.kv_heads = 8;
  shape.vocab = 8192;
  std::string work = (std::filesystem::temp_directory_path() / "lineage-bench-neurons").string();
  CLI::App app{"Neuron matching of one MLP at real size"};
  app.add_option("--neurons", shape.intermediate, "neurons of the MLP");
  app.add_option("--hidden", shape.hidden, "hidden size");
  app.add_option("--vocab", shape.vocab, "vocabulary (embedding rows; the hidden matching compares up to 8192)");
  app.add_option("--work", work, "scratch directory for the models");
  CLI11_PARSE(app, argc, argv);
  const std::filesystem::path dir = work;
  std::filesystem::create_directories(dir);
  lineage::synth::write_independent_model(shape, 1, dir / "a", {});
  lineage::synth::write_independent_model(shape, 2, dir / "unrelated", {});
  lineage::synth::derivation drift;
  drift.kind = lineage::synth::derivation_kind::drift;
  drift.scale = 0.5;
  lineage::synth::write_derived_model(dir / "a", dir / "derived", drift);

  fmt::print("one MLP: {} neurons x {} hidden (gate, up, down; BF16), 1024 hidden dimensions compared\n",
             shape.intermediate, shape.hidden);
  fmt::print("{:<12} {:>14} {:>22} {:>8} {:>10} {:>18} {:>10} {:>16} {:>10}\n", "pair", "matching (s)",
             "element statistics (s)", "ratio", "Spearman", "hidden matching (s)", "Spearman", "head matching (s)",
             "Spearman");
  for (const char* other : {"derived", "unrelated"}) {
    const measured m = measure(dir / "a", dir / other);
    fmt::print("{:<12} {:>14.2f} {:>22.3f} {:>8.0f} {:>10.4f} {:>18.2f} {:>10.4f} {:>16.2f} {:>10.4f}\n", other,
               m.matching, m.statistics, m.matching / m.statistics, m.spearman, m.hidden_matching, m.hidden_spearman,
               m.head_matching, m.head_spearman);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
