#pragma once
// From test units to a verdict.
//
// The verdict rests on the units (reduce/unit_figures.hpp): each tests the tensors one component
// of the architecture's symmetry group permutes, with an exact randomization p-value, and the
// units are independent under the null by construction. Fisher's method over all units is
// therefore an exact global test; families (the units of one kind) and layers are Fisher
// combinations of theirs, shown to say where the evidence is. A reference panel, when given, is
// one more family (harmonic mean over roles) joined to the units by Šidák's correction. Tests whose
// nulls are not symmetries of the architecture (layer order, matching agreement, fingerprints) are
// shown as descriptive and never carry the verdict.
#include <string>
#include <string_view>
#include <vector>

#include "reduce/probability.hpp"

namespace lineage {

struct comparison_report;

// The family of a canonical role: embeddings, norms, attention, mlp, experts, router, mtp, other.
std::string role_family(std::string_view role);

// Units of one layer or of one kind taken together, or a descriptive family of tests.
struct group_evidence {
  std::string name;            // family name, or "layer 12" / "global"
  int layer = -1;              // layer groups: the layer (−1: outside layers)
  std::size_t tensors = 0;     // what was combined (see `unit`)
  std::string unit = "units";  // what `tensors` counts: "units", "tests", "roles"
  std::string method = "Fisher";  // how `p` combines them: "Fisher" or "harmonic mean"
  double p = 1;                // the group's p
  combined_p fisher;           // valid for independent p-values
  combined_p harmonic;         // robust to dependence
  bool descriptive = false;    // shown, never part of the verdict
  double median_pearson = 0;   // the median effect (Pearson of the members, or the tests' own effect)
  double mean_cosine = 0;
  double mean_null_cosine = 0;  // what unrelated models score, by the members' nulls
  double min_p = 1;
  std::string strongest;       // the unit or test with the smallest p
  double strongest_pearson = 0, strongest_z = 0;
  double adjusted_p = 1;       // families: Holm–Šidák across the verdict's families (display)
  bool significant = false;    // families: adjusted_p ≤ α
};

struct verdict_report {
  std::string label;           // identical | derived | no evidence of derivation | inconclusive
  double p_global = 1;         // Fisher over the units (Šidák-joined with a reference panel)
  double p_floor = 1;          // the smallest global p these tests can give
  std::size_t units = 0;       // unit tests combined
  double alpha = 0.01;
  std::vector<std::string> evidence;   // the lines that carry the label, strongest first
  std::vector<std::string> notes;      // plain sentences a reader must not miss
  // The families significant at α (Holm–Šidák across families), strongest first: where the
  // evidence of a `derived` verdict sits (empty otherwise).
  std::vector<std::string> carried_by;
  std::vector<std::string> invariances_tested;
  std::vector<std::string> invariances_not_tested;
};

struct evidence_summary {
  std::vector<group_evidence> layers;
  std::vector<group_evidence> families;  // the verdict's families first, then the descriptive ones
  verdict_report verdict;
};

inline constexpr const char* verdict_labels[] = {"identical", "derived", "no evidence of derivation",
                                                 "inconclusive"};

// Below this share of the smaller model's parameters tested, "no evidence" is "inconclusive".
inline constexpr double minimum_coverage = 0.25;

evidence_summary assess_evidence(const comparison_report& report, double alpha);

// evidence_families.cpp: the unit families, the layers, the panel and the descriptive families.
std::vector<group_evidence> unit_families(const comparison_report& report);
std::vector<group_evidence> unit_layers(const comparison_report& report);
void add_panel_family(std::vector<group_evidence>& families, const comparison_report& report);
void add_descriptive_families(std::vector<group_evidence>& families, const comparison_report& report);

// evidence_text.cpp: one line per family, the notes and the invariances.
std::string family_line(const group_evidence& family, const comparison_report& report);
std::string p_text(double p);
void add_notes(verdict_report& verdict, const comparison_report& report);
void add_invariances(verdict_report& verdict, const comparison_report& report);

}  // namespace lineage
