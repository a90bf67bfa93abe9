// The calibration study at bench scale (tests/support/calibration_study.hpp): unrelated generated
// pairs (uniformity of the global p, false-positive rate) and derived pairs at increasing drift
// (power, and the detection limit: the drift at which power falls below 0.9). Prints the table
// recorded in docs/CALIBRATION.md.
//   bench_calibrate [--pairs N] [--derived N] [--hidden H] [--layers L] [--work DIR]
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <filesystem>

#include "calibration_study.hpp"

// The disguises named on the command line and the shared structure of --structured.
bool apply_choices(lineage::calibration_options& options, const std::vector<std::string>& disguises,
                   bool structured, const std::string& draws) {
  const auto named = lineage::null_draws_named(draws);
  if (!named) {
    fmt::print(stderr, "bench_calibrate: --null-draws {}: expected auto, random or cyclic\n", draws);
    return false;
  }
  options.draws = *named;
  for (const auto& name : disguises) {
    lineage::synth::derivation how;
    const bool hadamard = name == "rotate-hidden-hadamard";
    const auto kind = lineage::synth::parse_derivation_kind(hadamard ? "rotate-hidden" : name);
    if (!kind) {
      fmt::print(stderr, "bench_calibrate: --disguise {}: not a synth derive kind\n", name);
      return false;
    }
    how.kind = *kind;
    if (hadamard) how.rotation = lineage::synth::hidden_rotation_kind::hadamard;
    options.disguises.push_back(how);
  }
  if (structured) {
    options.structure.token_profile = options.structure.constant_buffers = true;
    options.structure.special_tokens = 8;
    options.structure.unused_tokens = options.shape.vocab / 8;
    options.structure.gate_up = 0.5;
  }
  return true;
}

// The study's settings (their defaults: docs/CALIBRATION.md) from the command line.
struct study_choices {
  lineage::calibration_options options;
  std::vector<std::string> disguises;
  bool structured = false;
  std::string draws = "auto";
  std::string work = (std::filesystem::temp_directory_path() / "lineage-calibration").string();
};

// The bench's defaults (a small model, 1000 unrelated pairs, 50 derived per drift level), then its
// command line.
void add_options(CLI::App& app, study_choices& c) {
  lineage::calibration_options& options = c.options;
  options.shape.layers = 2;
  options.shape.hidden = 64;
  options.shape.intermediate = 128;
  options.shape.heads = 4;
  options.shape.kv_heads = 2;
  options.shape.vocab = 256;
  options.independent_pairs = 1000;
  options.derived_pairs_per_level = 50;
  options.drift_levels = {1, 4, 8, 16, 32, 64, 128};
  app.add_option("--pairs", options.independent_pairs, "independent pairs");
  app.add_option("--derived", options.derived_pairs_per_level, "derived pairs per drift level");
  app.add_option("--drift", options.drift_levels, "drift levels (synth drift scale)");
  app.add_option("--hidden", options.shape.hidden, "hidden size of the generated models");
  app.add_option("--intermediate", options.shape.intermediate, "MLP width of the generated models");
  app.add_option("--layers", options.shape.layers, "layers of the generated models");
  app.add_option("--layer-correlation", options.layer_correlation, "correlation of norm weights across layers");
  app.add_option("--experts", options.shape.experts, "routed experts per layer (0: dense models)");
  app.add_option("--expert-intermediate", options.shape.expert_intermediate, "width of each expert");
  app.add_option("--dense-layers", options.shape.dense_layers, "dense layers first (MoE models)");
  app.add_option("--permutations-experts", options.permutations_experts, "K of the expert-matching null");
  app.add_flag("--permute-experts", options.permute_experts, "derived pairs: experts permuted before the drift");
  app.add_option("--disguise", c.disguises,
                 "derived pairs: a synth derive kind applied before the drift (repeatable, in order; "
                 "rotate-hidden-hadamard for the Hadamard rotation)");
  app.add_option("--first-seed", options.first_seed, "seed of the first generated model");
  app.add_option("--permutations-matrix", options.permutations_matrix, "K of units computed directly");
  app.add_option("--permutations-products", options.permutations_products, "K of units from cross products");
  app.add_option("--null-draws", c.draws, "auto, random or cyclic (the plain units' draws)");
  app.add_flag("--structured", c.structured,
               "independent pairs share structure as unrelated trained models do (token profile, 8 special and "
               "vocab/8 unused tokens, fixed buffers, gate-up alignment 0.5)");
  app.add_option("--classes", options.structure.classes, "independent pairs share a classifier head of C classes");
  app.add_option("--work", c.work, "scratch directory for the models");
}

void print_unrelated(const lineage::calibration_options& options, const lineage::calibration_result& result) {
  fmt::print("models: {} layers, hidden {}, MLP {}, vocab {}; permutations {} (vectors) / {} (matrices); "
             "α = {}\n",
             options.shape.layers, options.shape.hidden, options.shape.intermediate, options.shape.vocab,
             options.permutations_vector, options.permutations_matrix, options.alpha);
  if (options.shape.is_moe())
    fmt::print("MoE: {} experts of width {} per layer, {} dense layers first; expert-matching K = {}{}\n",
               options.shape.experts, options.shape.expert_intermediate, options.shape.dense_layers,
               options.permutations_experts, options.permute_experts ? "; derived pairs permute experts" : "");
  fmt::print("\nunrelated pairs: {}\n", result.independent_p.size());
  fmt::print("  false-positive rate at α = {}: {:.4f}\n", options.alpha, result.false_positive_rate);
  fmt::print("  global p uniform? Kolmogorov–Smirnov D = {:.4f}, p = {:.3g}\n", result.uniformity.statistic,
             result.uniformity.p);
  for (const double a : {0.01, 0.05, 0.1, 0.5}) {
    std::size_t below = 0;
    for (const double p : result.independent_p) below += p <= a;
    const double share = result.independent_p.empty() ? 0.0
                                                      : static_cast<double>(below) /
                                                            static_cast<double>(result.independent_p.size());
    fmt::print("  P(global p ≤ {:<4}) = {:.4f}\n", a, share);
  }
  if (options.structure.any())
    fmt::print("independent pairs share: token profile, {} special and {} unused tokens, {} classes, fixed buffers "
               "{}, gate-up {}\n",
               options.structure.special_tokens, options.structure.unused_tokens, options.structure.classes,
               options.structure.constant_buffers, options.structure.gate_up);
  fmt::print("  B read through a recovered order: hidden permutation in {}, hidden map in {}, head order in {} pairs\n",
             result.hidden_orders, result.hidden_maps, result.head_orders);
  fmt::print("  per family (Fisher over its units, before Holm–Šidák):\n");
  for (const auto& [family, p_values] : result.family_p) {
    std::size_t below = 0;
    for (const double p : p_values) below += p <= 0.01;
    fmt::print("    {:<16} pairs {:>5}  KS p = {:<8.3g} P(p ≤ 0.01) = {:.4f}\n", family, p_values.size(),
               lineage::kolmogorov_smirnov_uniform(p_values).p,
               static_cast<double>(below) / static_cast<double>(p_values.size()));
  }
}

void print_derived(const lineage::calibration_result& result, const std::vector<std::string>& disguises) {
  fmt::print("\nderived pairs (drift: synth derive --kind drift --scale s{})\n",
             disguises.empty() ? std::string() : ", after " + fmt::format("{}", fmt::join(disguises, ", ")));
  fmt::print("  {:>8}  {:>6}  {:>9}  {:>15}  {:>15}\n", "drift s", "pairs", "power", "median p_global",
             "median Pearson");
  for (const auto& rate : result.detection)
    fmt::print("  {:>8}  {:>6}  {:>9.3f}  {:>15.3g}  {:>15.4f}\n", rate.drift, rate.pairs, rate.power(),
               rate.median_p_global, rate.median_pearson);
  fmt::print("detection limit (first drift with power < 0.9): {}\n", result.detection_limit);
}

int main(int argc, char** argv) {
  study_choices choices;
  CLI::App app{"Calibration of lineage's verdict on generated models"};
  add_options(app, choices);
  CLI11_PARSE(app, argc, argv);
  lineage::calibration_options& options = choices.options;
  options.work_dir = choices.work;
  std::filesystem::create_directories(options.work_dir);
  if (!apply_choices(options, choices.disguises, choices.structured, choices.draws)) return 2;

  const auto start = std::chrono::steady_clock::now();
  const auto result = lineage::run_calibration(options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  print_unrelated(options, result);
  print_derived(result, choices.disguises);
  fmt::print("time: {:.1f} s\n", seconds);
  return 0;
}
