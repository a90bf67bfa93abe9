#include "calibration_study.hpp"

#include <algorithm>
#include <cmath>

#include "job/comparison_steps.hpp"

namespace lineage {
namespace {

comparison_report compare_pair(const calibration_options& options, const std::filesystem::path& a,
                               const std::filesystem::path& b, std::uint64_t seed) {
  compare_config config;
  config.model_a = a.string();
  config.model_b = b.string();
  config.block_elements = default_block_elements;
  config.permutations_vector = options.permutations_vector;
  config.permutations_matrix = options.permutations_matrix;
  config.permutations_experts = options.permutations_experts;
  config.permutations_products = options.permutations_products;
  config.draws = options.draws;
  config.seed = seed;
  config.alpha = options.alpha;
  return compare_in_process(config);
}

void count_orders(calibration_result& result, const comparison_report& report) {
  const auto any_pairing = [&](const char* what) {
    return std::any_of(report.tensors.begin(), report.tensors.end(),
                       [&](const tensor_result& t) { return t.pair.pairing.find(what) != std::string::npos; });
  };
  result.hidden_orders += any_pairing("hidden matching");
  result.hidden_maps += any_pairing("hidden rotation") || any_pairing("hidden selection");
  result.head_orders += any_pairing("head matching");
}

// The parent disguised by each of `options.disguises` in turn, then drifted, into `b`.
void write_derived(const calibration_options& options, const std::filesystem::path& a, const std::filesystem::path& b,
                   synth::derivation drift, std::uint64_t seed) {
  std::filesystem::path from = a;
  std::vector<std::filesystem::path> scratch;
  for (std::size_t d = 0; d < options.disguises.size(); ++d) {
    synth::derivation how = options.disguises[d];
    how.seed = seed + 11 * (d + 1);
    scratch.push_back(options.work_dir / ("disguise-" + std::to_string(d)));
    synth::write_derived_model(from, scratch.back(), how);
    from = scratch.back();
  }
  synth::write_derived_model(from, b, drift);
  for (const auto& path : scratch) std::filesystem::remove_all(path);
}

double median(std::vector<double> values) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

calibration_result run_calibration(const calibration_options& options) {
  calibration_result result;
  synth::write_options write;
  write.layer_correlation = options.layer_correlation;
  const auto a = options.work_dir / "a", b = options.work_dir / "b";
  std::uint32_t false_positives = 0;
  for (std::uint32_t i = 0; i < options.independent_pairs; ++i) {
    const std::uint64_t seed = options.first_seed + 2 * i;
    if (options.structure.any()) {
      write.structure = options.structure;
      write.structure.shared_seed = 77'000'000 + seed;
    }
    synth::write_independent_model(options.shape, seed, a, write);
    synth::write_independent_model(options.shape, seed + 1, b, write);
    const comparison_report report = compare_pair(options, a, b, seed);
    const auto& verdict = report.evidence.verdict;
    result.independent_p.push_back(verdict.p_global);
    result.independent_labels.push_back(verdict.label);
    for (const auto& family : report.evidence.families) result.family_p[family.name].push_back(family.p);
    false_positives += verdict.label == "derived" || verdict.label == "identical";
    count_orders(result, report);
  }
  result.false_positive_rate =
      options.independent_pairs ? static_cast<double>(false_positives) / options.independent_pairs : 0;
  result.uniformity = kolmogorov_smirnov_uniform(result.independent_p);

  result.detection_limit = NAN;
  for (const double drift : options.drift_levels) {
    detection_rate rate;
    rate.drift = drift;
    std::vector<double> p_values, pearsons;
    for (std::uint32_t j = 0; j < options.derived_pairs_per_level; ++j) {
      const std::uint64_t seed = options.first_seed + 1'000'003 + j;
      synth::write_independent_model(options.shape, seed, a, write);
      synth::derivation how;
      how.kind = synth::derivation_kind::drift;
      how.scale = drift;
      how.seed = seed + 7;
      if (options.permute_experts) {
        const auto permuted = options.work_dir / "permuted";
        synth::derivation relabel;
        relabel.kind = synth::derivation_kind::permute_experts;
        relabel.seed = seed + 3;
        synth::write_derived_model(a, permuted, relabel);
        synth::write_derived_model(permuted, b, how);
        std::filesystem::remove_all(permuted);
      } else {
        write_derived(options, a, b, how, seed);
      }
      const comparison_report report = compare_pair(options, a, b, seed);
      const auto& verdict = report.evidence.verdict;
      ++rate.pairs;
      rate.detected += verdict.label == "derived" || verdict.label == "identical";
      p_values.push_back(verdict.p_global);
      std::vector<double> pair_pearsons;
      for (const auto& t : report.tensors) pair_pearsons.push_back(t.figures.pearson);
      pearsons.push_back(median(pair_pearsons));
    }
    rate.median_p_global = median(p_values);
    rate.median_pearson = median(pearsons);
    if (std::isnan(result.detection_limit) && rate.power() < 0.9) result.detection_limit = drift;
    result.detection.push_back(rate);
  }
  std::filesystem::remove_all(a);
  std::filesystem::remove_all(b);
  return result;
}

}  // namespace lineage
