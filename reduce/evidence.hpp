#pragma once
// From per-tensor p-values to a verdict: combination per layer and per role family (Fisher and the
// harmonic mean p-value), Holm–Šidák across families, and the label with the lines that carry it.
#include <string>
#include <string_view>
#include <vector>

#include "reduce/probability.hpp"

namespace lineage {

struct comparison_report;

// The family of a canonical role: embeddings, norms, attention, mlp, experts, router, mtp, other.
std::string role_family(std::string_view role);

// Tensor pairs of one layer, or of one family, taken together.
struct group_evidence {
  std::string name;            // family name, or "layer 12" / "global"
  int layer = -1;              // layer groups: the layer (−1: outside layers)
  std::size_t tensors = 0;     // p-values combined
  std::string unit = "tensor pairs";  // what `tensors` counts: "tensor pairs", or "tests" (layer order)
  combined_p fisher;           // valid for independent p-values
  combined_p harmonic;         // robust to dependence; the family's p for the verdict
  double median_pearson = 0;
  double mean_cosine = 0;
  double mean_null_cosine = 0;  // what unrelated models score, by the permutation nulls
  double min_p = 1;
  std::string strongest;       // the pair with the smallest p
  double strongest_pearson = 0, strongest_z = 0;
  double adjusted_p = 1;       // families: Holm–Šidák across families
  bool significant = false;    // families: adjusted_p ≤ α
};

struct verdict_report {
  std::string label;           // identical | derived | no evidence of derivation | inconclusive
  double p_global = 1;         // smallest Holm–Šidák-adjusted family p
  double alpha = 0.01;
  std::vector<std::string> evidence;   // the lines that carry the label, strongest first
  std::vector<std::string> notes;      // plain sentences a reader must not miss
  // The families significant at α (Holm–Šidák), strongest first: the evidence that carries a
  // `derived` verdict (empty otherwise).
  std::vector<std::string> carried_by;
  std::vector<std::string> invariances_tested;
  std::vector<std::string> invariances_not_tested;
};

struct evidence_summary {
  std::vector<group_evidence> layers;
  std::vector<group_evidence> families;
  verdict_report verdict;
};

inline constexpr const char* verdict_labels[] = {"identical", "derived", "no evidence of derivation",
                                                 "inconclusive"};

// Below this share of the smaller model's parameters compared, "no evidence" is "inconclusive".
inline constexpr double minimum_coverage = 0.25;

evidence_summary assess_evidence(const comparison_report& report, double alpha);

}  // namespace lineage
