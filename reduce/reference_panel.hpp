#pragma once
// The reference panel: models known to be unrelated to A and to B, each compared with A and with B
// by the same statistics. What they score, role by role, is what unrelated models score — a null
// drawn from real models rather than from permutations. Panel comparisons run inside the job
// (config `reference_panel`) or as jobs of their own, e.g. a Slurm job array, whose report.h5
// files the job merges (config `panel_reports`).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "plan/plan.hpp"

namespace lineage {

struct comparison_report;

// One tensor pair of a panel comparison.
struct panel_tensor {
  std::string role;
  int layer = -1;
  double pearson = 0, cosine = 0;
};

// One comparison of model A or B with a reference model.
struct panel_comparison {
  char side = 'a';          // which model of the pair was compared: 'a' or 'b'
  std::string reference;    // the reference model's path, as its report gives it
  std::string source;       // "this job", or the report.h5 it was read from
  std::vector<panel_tensor> tensors;
};

// The panel comparison a report of `side` (A or B) against a reference holds.
panel_comparison panel_from_report(const comparison_report& report, char side, std::string source);

// Reads a panel comparison from a report.h5 written by lineage. One of its two models must be
// model A or model B of this job (same config.json, files and file sizes); the other is the
// reference. Throws input_error naming the file and what is wrong.
panel_comparison read_panel_report(const std::filesystem::path& path, const model_description& a,
                                   const model_description& b);

// One role: the pair's median Pearson (and raw cosine) over its layers against the same median of
// every panel comparison that has the role.
struct panel_role_figures {
  std::string role;
  std::size_t layers = 0;                // tensor pairs of the role in the compared pair
  double pearson = 0, cosine = 0;        // the pair's medians
  std::vector<double> panel_pearson, panel_cosine;  // one per panel comparison with the role
  double panel_pearson_mean = 0, panel_pearson_sd = 0, panel_pearson_max = 0;
  double panel_cosine_mean = 0, panel_cosine_max = 0;
  double z = 0;                          // (pearson − panel mean) / panel sd (0 when sd is 0)
  double p_value = 1;                    // (1 + #{panel ≥ pearson}) / (1 + panel count)
};

struct panel_figures {
  std::vector<panel_comparison> comparisons;
  std::vector<panel_role_figures> roles;  // roles the pair and at least one panel comparison share
  [[nodiscard]] bool empty() const noexcept { return comparisons.empty(); }
};

panel_figures assess_panel(const comparison_report& report, std::vector<panel_comparison> comparisons);

}  // namespace lineage
