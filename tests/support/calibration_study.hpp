#pragma once
// Calibration of the verdict on generated models: how often unrelated pairs are called derived
// (and whether their global p-values are uniform), and how often derived pairs are caught at each
// drift level. Used by tests/unit/test_calibration.cpp (small, fixed seeds) and bench/calibrate
// (larger, prints the table for docs/CALIBRATION.md).
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "reduce/probability.hpp"
#include "shard/symmetry_draw.hpp"
#include "synth/synth.hpp"

namespace lineage {

struct calibration_options {
  synth::model_shape shape;
  std::uint32_t independent_pairs = 200;
  std::vector<double> drift_levels;       // derived pairs at each level (synth drift scale)
  std::uint32_t derived_pairs_per_level = 20;
  std::uint32_t permutations_vector = 1000;
  std::uint32_t permutations_matrix = 200;
  std::uint32_t permutations_experts = 100;  // MoE shapes: K of the expert-matching null
  std::uint32_t permutations_products = 10000;  // K of units computed from cross products
  null_draws draws = null_draws::automatic;     // random permutations or all cyclic shifts (plain units)
  // Structure the two models of each independent pair share (synth independent --shared-seed ...):
  // each pair gets its own shared seed, so pairs differ and the two models of one pair agree.
  synth::shared_structure structure;
  // Derived pairs: the experts permuted (synth permute-experts) before the drift, so that only
  // expert matching can pair them (MoE shapes only).
  bool permute_experts = false;
  // Derived pairs: these function-preserving disguises, in order, before the drift (e.g.
  // permute-hidden, rotate-hidden); each with the pair's own seed.
  std::vector<synth::derivation> disguises;
  double alpha = 0.01;
  std::uint64_t first_seed = 1;
  double layer_correlation = 0.0;
  std::filesystem::path work_dir;         // models are written here and removed again
};

struct detection_rate {
  double drift = 0;
  std::uint32_t pairs = 0;
  std::uint32_t detected = 0;             // verdict "derived" (or "identical")
  double median_p_global = 1;
  double median_pearson = 0;              // median over pairs of the median Pearson of their tensors
  [[nodiscard]] double power() const { return pairs ? static_cast<double>(detected) / pairs : 0; }
};

struct calibration_result {
  std::vector<double> independent_p;      // global p of each independent pair
  std::vector<std::string> independent_labels;
  // Each family's p (Fisher over its units; before the Holm–Šidák step) over the independent
  // pairs: a finer check than the global p, family by family.
  std::map<std::string, std::vector<double>> family_p;
  combined_p uniformity;                  // Kolmogorov–Smirnov of independent_p against U(0, 1)
  double false_positive_rate = 0;         // share of independent pairs called derived at α
  std::vector<detection_rate> detection;
  // The smallest drift level at which power falls below 0.9 (NaN if it never does).
  double detection_limit = 0;
  // How often the plan read B of an independent pair through a recovered order: a hidden
  // permutation, a dense hidden map (rotation or selection), a head order.
  std::uint32_t hidden_orders = 0, hidden_maps = 0, head_orders = 0;
};

calibration_result run_calibration(const calibration_options& options);

}  // namespace lineage
