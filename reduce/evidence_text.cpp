// The words of the verdict: one line per family, the notes a reader must not miss, and what was
// and was not tested.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "reduce/evidence.hpp"
#include "reduce/report_model.hpp"

namespace lineage {
namespace {

double mean(const std::vector<double>& values) {
  double total = 0;
  for (const double v : values) total += v;
  return values.empty() ? NAN : total / static_cast<double>(values.size());
}

double median(std::vector<double> values) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : 0.5 * (values[middle - 1] + values[middle]);
}

const unit_figures* unit_named(const comparison_report& report, const std::string& label) {
  for (const auto& u : report.units)
    if (u.label == label) return &u;
  return nullptr;
}

// Why a descriptive family cannot carry the verdict.
std::string descriptive_reason(const std::string& name) {
  if (name == "layer order") return "its null permutes layer labels, which are not a symmetry of the architecture";
  if (name == "fingerprints") return "moments and spectra do not change under any symmetry, so no symmetry null exists";
  return "the agreement of two matchings does not change under the symmetry, so its null assumes the gate and "
         "up (or q and o) rows of unrelated models do not make the matchings agree";
}

}  // namespace

std::string p_text(double p) { return p < 1e-300 ? std::string("< 1e-300") : fmt::format("{:.3g}", p); }

std::string family_line(const group_evidence& f, const comparison_report& report) {
  const std::string adjusted =
      f.descriptive ? std::string("descriptive, not part of the verdict (") + descriptive_reason(f.name) + ")"
                    : fmt::format("Holm–Šidák adjusted p = {}{}", p_text(f.adjusted_p), f.significant ? " — significant" : "");
  if (f.name == "reference panel")
    return fmt::format(
        "{}: {} comparisons of A and B with unrelated reference models over {} roles; harmonic-mean p = {}; {}. "
        "Strongest: {} (median Pearson {:.4f}, z = {:.1f} against the panel).",
        f.name, report.panel.comparisons.size(), f.tensors, p_text(f.p), adjusted, f.strongest, f.strongest_pearson,
        f.strongest_z);
  if (f.descriptive)
    return fmt::format("{}: {} tests, median effect {:.4f}; harmonic-mean p = {}; {}. Strongest: {} (effect {:.4f}, z = {:.1f}).",
                       f.name, f.tensors, f.median_pearson, p_text(f.p), adjusted, f.strongest, f.strongest_pearson,
                       f.strongest_z);
  const unit_figures* strongest = unit_named(report, f.strongest);
  return fmt::format(
      "{}: {} units, median Pearson {:.4f}; Fisher p = {}; {}. Strongest: {} ({}; z = {:.1f}, p = {}, the smallest "
      "its {} draws can give being {}).",
      f.name, f.tensors, f.median_pearson, p_text(f.p), adjusted, f.strongest,
      strongest != nullptr ? strongest->group : std::string("?"), f.strongest_z, p_text(f.min_p),
      strongest != nullptr ? strongest->permutations : 0, p_text(strongest != nullptr ? strongest->p_floor : NAN));
}

void add_notes(verdict_report& verdict, const comparison_report& report) {
  // The sentence the Solar/GLM claim needed: high raw cosine that the calibrated test does not back.
  std::vector<double> cosines, null_cosines, pearsons;
  double smallest_p = 1;
  for (const auto& t : report.tensors) {
    if (!t.null.available || !(t.figures.cosine > 0.9) || t.null.p_value <= verdict.alpha) continue;
    cosines.push_back(t.figures.cosine);
    null_cosines.push_back(t.null.cosine.mean);
    pearsons.push_back(t.figures.pearson);
    smallest_p = std::min(smallest_p, t.null.p_value);
  }
  if (!cosines.empty())
    verdict.notes.push_back(fmt::format(
        "{} tensor pairs have a raw cosine above 0.9 (mean {:.3f}), but their symmetry nulls — what unrelated "
        "weights score — average {:.3f}, their median Pearson is {:.3f} and no p is below {:.2g}: a high raw cosine "
        "of these vectors is not evidence of derivation.",
        cosines.size(), mean(cosines), mean(null_cosines), median(pearsons), smallest_p));
  for (const auto& r : report.panel.roles)
    if (r.cosine > 0.9) {
      verdict.notes.push_back(fmt::format(
          "On {}, the reference panel's unrelated models score a median raw cosine of {:.3f} on average (the pair: "
          "{:.3f}) and a median Pearson of {:.3f} (the pair: {:.3f}).",
          r.role, r.panel_cosine_mean, r.cosine, r.panel_pearson_mean, r.pearson));
      break;
    }
  std::map<std::string, std::size_t> untested;
  std::size_t buffers = 0;
  for (const auto& t : report.tensors)
    if (t.null.test_unit.empty()) ++untested[t.null.reason.substr(0, t.null.reason.find(" ("))];
  std::size_t unusable = 0;
  for (const auto& u : report.units) {
    buffers += std::count_if(u.left_out.begin(), u.left_out.end(),
                             [](const std::string& s) { return s.find("bitwise identical") != std::string::npos; });
    unusable += std::count_if(u.left_out.begin(), u.left_out.end(),
                              [](const std::string& s) { return s.find("bitwise identical") == std::string::npos; });
  }
  if (unusable > 0)
    verdict.notes.push_back(fmt::format(
        "{} tensor pair{} left out of {} unit{}: no usable null (non-finite values or too few units to permute); the "
        "unit is tested on its other tensors.",
        unusable, unusable == 1 ? " is" : "s are", unusable == 1 ? "its" : "their", unusable == 1 ? "" : "s"));
  for (const auto& [reason, count] : untested)
    verdict.notes.push_back(fmt::format(
        "{} tensor pair{} not tested: {}. They are shown with their figures but carry no evidence: only axes whose "
        "labels are arbitrary can be permuted to show what unrelated models score.",
        count, count == 1 ? " is" : "s are", reason));
  if (buffers > 0)
    verdict.notes.push_back(fmt::format(
        "{} tensor pair{} with inferred axes bitwise identical in both models: perhaps fixed buffers, left out.",
        buffers, buffers == 1 ? " is" : "s are"));
  if (verdict.label == "no evidence of derivation")
    verdict.notes.push_back(
        "No evidence of derivation is not proof of independence: it holds only for the invariances tested below.");
}

void add_invariances(verdict_report& verdict, const comparison_report& report) {
  auto& tested = verdict.invariances_tested;
  auto& not_tested = verdict.invariances_not_tested;
  tested = {"tensors paired by canonical key (layer, role, expert) across architectures and names",
            "fine-tuning drift and added noise: every unit compares the tensors in place against the draws of its "
            "symmetry group",
            "dtype changes and re-sharding (bitwise equality after conversion to a common dtype)"};
  std::map<std::string, bool> kinds;
  for (const auto& u : report.units) kinds[u.kind] = kinds[u.kind] || u.available;
  const bool hidden_applied = std::any_of(report.hidden_matching.begin(), report.hidden_matching.end(),
                                          [](const hidden_matching_figures& m) { return m.aligned_pairs > 0; });
  const bool heads_applied = std::any_of(report.head_matching.begin(), report.head_matching.end(),
                                         [](const head_matching_figures& m) { return m.applied; });
  const bool matched_hidden = std::any_of(report.hidden_matching.begin(), report.hidden_matching.end(),
                                          [](const hidden_matching_figures& m) { return m.available; });
  (matched_hidden ? tested : not_tested)
      .push_back("permutation and sign flips of the hidden dimension: an order recovered from the embedding, applied "
                 "to every later unit, whose nulls (neurons, heads, values, experts) it leaves exact" +
                 std::string(hidden_applied ? " (applied here)" : ""));
  (kinds["values"] ? tested : not_tested)
      .push_back("permutation of attention heads: a head order recovered from q_proj and k_proj, applied to v_proj "
                 "and o_proj, tested by permuting the value dimensions inside heads" +
                 std::string(heads_applied ? " (applied here)" : ""));
  (kinds["expert matching"] ? tested : not_tested)
      .push_back("permutation and pruning of routed experts: experts matched on a sample of neurons, each matched pair "
                 "tested on the other neurons");
  not_tested.push_back(
      "permutation of MLP neurons is seen only through the other units: the neuron units compare neurons in place");
  const bool rotated = std::any_of(report.tensors.begin(), report.tensors.end(), [](const tensor_result& t) {
    return t.pair.pairing.find("hidden rotation") != std::string::npos;
  });
  const bool selected = std::any_of(report.tensors.begin(), report.tensors.end(), [](const tensor_result& t) {
    return t.pair.pairing.find("hidden selection") != std::string::npos;
  });
  (matched_hidden ? tested : not_tested)
      .push_back("rotations of the residual stream (orthogonal maps after folding the norms): a rotation recovered by "
                 "orthogonal Procrustes on the embedding's shared tokens, applied to every later unit" +
                 std::string(rotated ? " (applied here)" : ""));
  (matched_hidden ? tested : not_tested)
      .push_back("other widths of the residual stream (hidden dimensions pruned): the embedding's matching selects B's "
                 "dimension for each of A's, applied to every later unit" +
                 std::string(selected ? " (applied here)" : ""));
  const auto token_paired = std::find_if(report.tensors.begin(), report.tensors.end(), [](const tensor_result& t) {
    return t.pair.pairing.find("shared tokens") != std::string::npos;
  });
  if (token_paired != report.tensors.end())
    tested.push_back(fmt::format("vocabulary changes: embedding rows of shared tokens ({} of A's {}), their hidden "
                                 "columns permuted",
                                 token_paired->pair.rows_a.size(), token_paired->pair.a.shape.front()));
  else
    not_tested.push_back("vocabulary changes (embedding rows of shared tokens)");
  tested.push_back("rescaling of norm weights and of slices against the layers that read them: matrices are tested by "
                   "the directions of their slices, rows folded with the norm they read");
}

}  // namespace lineage
