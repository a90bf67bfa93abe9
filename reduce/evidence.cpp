#include "reduce/evidence.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "reduce/report_model.hpp"

namespace lineage {
namespace {

constexpr const char* layer_order_family = "layer order";
constexpr const char* expert_matching_family = "expert matching";
constexpr const char* panel_family = "reference panel";
constexpr const char* neuron_matching_family = "neuron matching";
constexpr const char* hidden_matching_family = "hidden matching";
constexpr const char* fingerprint_family = "fingerprints";
constexpr const char* head_matching_family = "head matching";

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }
bool starts_with(std::string_view text, std::string_view prefix) { return text.rfind(prefix, 0) == 0; }

double median(std::vector<double> values) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : 0.5 * (values[middle - 1] + values[middle]);
}

double mean(const std::vector<double>& values) {
  if (values.empty()) return NAN;
  double total = 0;
  for (const double v : values) total += v;
  return total / static_cast<double>(values.size());
}

std::string p_text(double p) { return p < 1e-300 ? std::string("< 1e-300") : fmt::format("{:.3g}", p); }

// Builds the combined evidence of the usable tensors among `members`.
group_evidence combine(std::string name, int layer, const std::vector<const tensor_result*>& members) {
  group_evidence g;
  g.name = std::move(name);
  g.layer = layer;
  std::vector<double> p_values, pearsons, cosines, null_cosines;
  for (const tensor_result* t : members) {
    if (!t->null.available) continue;
    p_values.push_back(t->null.p_value);
    if (std::isfinite(t->figures.pearson)) pearsons.push_back(t->figures.pearson);
    if (std::isfinite(t->figures.cosine)) cosines.push_back(t->figures.cosine);
    if (std::isfinite(t->null.cosine.mean)) null_cosines.push_back(t->null.cosine.mean);
    if (t->null.p_value < g.min_p || g.strongest.empty()) {
      g.min_p = t->null.p_value;
      g.strongest = t->pair.a.name;
      g.strongest_pearson = t->figures.pearson;
      g.strongest_z = t->null.z;
    }
  }
  g.tensors = p_values.size();
  g.fisher = fisher_combination(p_values);
  g.harmonic = harmonic_mean_combination(p_values);
  g.median_pearson = median(pearsons);
  g.mean_cosine = mean(cosines);
  g.mean_null_cosine = mean(null_cosines);
  return g;
}

std::string family_line(const group_evidence& f, const comparison_report& report) {
  const std::string adjusted =
      fmt::format("Holm–Šidák adjusted p = {}{}", p_text(f.adjusted_p), f.significant ? " — significant" : "");
  if (f.name == layer_order_family) {
    const auto& d = report.depth;
    const std::string alignment =
        d.available ? fmt::format("; B's {} layers align monotonically to A's {} ({}; {} A layers skipped, {} B "
                                  "layers repeat their A layer) with mean Pearson {:.4f}, z = {:.1f}, p = {} "
                                  "against {} shuffled layer orders",
                                  d.layers_b.size(), d.layers_a.size(),
                                  d.is_identity ? "layer i to layer i" : "not layer i to i", d.skipped_a,
                                  d.repeated, d.score, d.z, p_text(d.p_value), d.permutations)
                    : std::string();
    return fmt::format(
        "{}: {} tests (the diagonal of each role's layer × layer Pearson matrix against layer-label "
        "permutations{}); harmonic-mean p = {} (Fisher p = {}); {}. Strongest: {} (Pearson {:.4f}, z = {:.1f}).",
        f.name, f.tensors, alignment, p_text(f.harmonic.p), p_text(f.fisher.p), adjusted, f.strongest,
        f.strongest_pearson, f.strongest_z);
  }
  if (f.name == panel_family) {
    const auto& panel = report.panel;
    std::size_t references = 0, above_all = 0;
    for (const auto& r : panel.roles) above_all += r.pearson > r.panel_pearson_max;
    std::vector<std::string> seen;
    for (const auto& c : panel.comparisons)
      if (std::find(seen.begin(), seen.end(), c.reference) == seen.end()) seen.push_back(c.reference);
    references = seen.size();
    return fmt::format(
        "{}: {} comparisons of A and B with {} reference models; on {} of {} roles the pair's median "
        "Pearson exceeds every panel value; harmonic-mean p = {} (Fisher p = {}); {}. Strongest: {} "
        "(median Pearson {:.4f}, z = {:.1f} against the panel).",
        f.name, panel.comparisons.size(), references, above_all, f.tensors, p_text(f.harmonic.p), p_text(f.fisher.p),
        adjusted, f.strongest, f.strongest_pearson, f.strongest_z);
  }
  if (f.name == neuron_matching_family) {
    std::size_t moved = 0, neurons = 0;
    for (const auto& m : report.neuron_matching) {
      if (!m.available) continue;
      moved += m.moved;
      neurons += m.neurons_a;
    }
    return fmt::format(
        "{}: {} MLPs, neurons matched by optimal assignment on gate_proj rows and on up_proj rows; median "
        "Spearman correlation of the two matchings {:.4f} ({} of {} A neurons matched to a B neuron of "
        "another index); harmonic-mean p = {} (Fisher p = {}); {}. Strongest: {} (Spearman {:.4f}, z = {:.1f}).",
        f.name, f.tensors, f.median_pearson, moved, neurons, p_text(f.harmonic.p), p_text(f.fisher.p), adjusted,
        f.strongest, f.strongest_pearson, f.strongest_z);
  }
  if (f.name == head_matching_family) {
    std::size_t moved = 0, heads = 0, applied = 0;
    for (const auto& m : report.head_matching) {
      if (!m.available) continue;
      moved += m.moved;
      heads += m.heads;
      applied += m.applied;
    }
    return fmt::format(
        "{}: {} attention layers, heads matched by optimal assignment on q_proj rows and on o_proj columns; median "
        "Spearman correlation of the two matchings {:.4f} ({} of {} A query heads matched to a B head of another "
        "index; the head order applied to B's q/k/v/o in {} layers); harmonic-mean p = {} (Fisher p = {}); {}. "
        "Strongest: {} (Spearman {:.4f}).",
        f.name, f.tensors, f.median_pearson, moved, heads, applied, p_text(f.harmonic.p), p_text(f.fisher.p),
        adjusted, f.strongest, f.strongest_pearson);
  }
  if (f.name == hidden_matching_family && !report.hidden_matching.empty()) {
    const auto& m = report.hidden_matching.front();
    return fmt::format(
        "{}: the {} hidden dimensions of A matched to the {} of B by optimal assignment on the columns of {} (rows "
        "{} to {}, in two halves); Spearman correlation of the two matchings {:.4f} over {} dimensions, {} of {} "
        "matched to another index; p = {}; {}. {}",
        f.name, m.hidden, m.hidden_b, m.role, m.row_begin, m.row_begin + m.rows, m.spearman, m.ranked, m.moved, m.hidden,
        p_text(f.harmonic.p), adjusted,
        m.aligned_pairs > 0
            ? fmt::format("The other statistics read {} tensor pairs of B through the recovered permutation.",
                          m.aligned_pairs)
            : std::string("The recovered permutation was not applied (the identity, not significant at 1e-3, or "
                        "B of another width)."));
  }
  if (f.name == fingerprint_family) {
    const auto& figures = report.fingerprints;
    const auto& test = figures.test;
    return fmt::format(
        "{}: {} tensor pairs of other shapes under one key; log sd, mean/sd and the leading singular values "
        "(fractions of the Frobenius norm) of {} roles over {} layers, each series detrended over depth; mean "
        "correlation at the same depth {:.4f} against {} shifted-layer values (z = {:.1f}); p = {} (never below "
        "1/{} with {} layers); {}.",
        f.name, figures.pairs.size(), test.roles.size(), test.layers.size(), test.statistic, test.null.size(), test.z,
        p_text(f.harmonic.p), test.layers.size(), test.layers.size(), adjusted);
  }
  if (f.name == expert_matching_family) {
    std::size_t experts = 0, moved = 0, unmatched = 0;
    for (const auto& m : report.expert_matching) {
      if (!m.available) continue;
      experts += m.experts_a.size();
      moved += m.moved;
      unmatched += m.unmatched_a + m.unmatched_b;
    }
    return fmt::format(
        "{}: {} MoE layers, experts matched by optimal assignment on sampled weights and tested against "
        "shuffled rows ({} of {} A experts matched to a B expert of another index, {} left unmatched); "
        "median matched similarity {:.4f}; harmonic-mean p = {} (Fisher p = {}); {}. Strongest: {} "
        "(matched similarity {:.4f}, z = {:.1f}).",
        f.name, f.tensors, moved, experts, unmatched, f.median_pearson, p_text(f.harmonic.p), p_text(f.fisher.p),
        adjusted, f.strongest, f.strongest_pearson, f.strongest_z);
  }
  return fmt::format(
      "{}: {} tensor pairs, median Pearson {:.4f}; harmonic-mean p = {} (Fisher p = {}); Holm–Šidák "
      "adjusted p = {}{}. Strongest: {} (Pearson {:.4f}, z = {:.1f} against its permutation null).",
      f.name, f.tensors, f.median_pearson, p_text(f.harmonic.p), p_text(f.fisher.p), p_text(f.adjusted_p),
      f.significant ? " — significant" : "", f.strongest, f.strongest_pearson, f.strongest_z);
}

// One test of a family of tests of its own (layer order, expert matching, reference panel).
struct family_test {
  double p = 1;
  std::string what;     // what was tested, for the evidence line
  double effect = 0;    // its effect size (a Pearson or a mean of them)
  double z = 0;
};

// The family `name` of `tests` (none when there are no tests); `median_effect` is the family's
// summary effect size.
void add_test_family(evidence_summary& summary, const char* name, const std::vector<family_test>& tests,
                     double median_effect) {
  if (tests.empty()) return;
  group_evidence family;
  family.name = name;
  family.unit = "tests";
  std::vector<double> p_values;
  for (const auto& t : tests) {
    p_values.push_back(t.p);
    if (t.p < family.min_p || family.strongest.empty()) {
      family.min_p = t.p;
      family.strongest = t.what;
      family.strongest_pearson = t.effect;
      family.strongest_z = t.z;
    }
  }
  family.tensors = p_values.size();
  family.fisher = fisher_combination(p_values);
  family.harmonic = harmonic_mean_combination(p_values);
  family.median_pearson = median_effect;
  summary.families.push_back(std::move(family));
}

// The cross-layer tests (one p per role) and the depth alignment (one p) as one family: they
// read the same layer × layer matrices, so they are far from independent of each other, and the
// harmonic mean p-value is the combination that tolerates that.
void add_layer_structure(evidence_summary& summary, const comparison_report& report) {
  std::vector<family_test> tests;
  std::vector<double> diagonals;
  for (const auto& f : report.cross_layers) {
    if (!f.available || f.common < 2) continue;
    diagonals.push_back(f.diagonal_mean);
    tests.push_back({f.p_value, "cross-layer diagonal of " + f.role, f.diagonal_mean, f.z});
  }
  if (report.depth.available)
    tests.push_back({report.depth.p_value, "depth alignment", report.depth.score, report.depth.z});
  add_test_family(summary, layer_order_family, tests, diagonals.empty() ? report.depth.score : median(diagonals));
}

// One test per matched MoE layer: is the optimal assignment of B's experts to A's better than it
// is once every correspondence is destroyed?
void add_expert_matching(evidence_summary& summary, const comparison_report& report) {
  std::vector<family_test> tests;
  std::vector<double> scores;
  for (const auto& m : report.expert_matching) {
    if (!m.available) continue;
    scores.push_back(m.score);
    tests.push_back({m.p_value, "expert matching of " + m.where(), m.score, m.z});
  }
  add_test_family(summary, expert_matching_family, tests, median(scores));
}

// One test per MLP: do the matchings by gate_proj and by up_proj agree (Spearman)?
void add_neuron_matching(evidence_summary& summary, const comparison_report& report) {
  std::vector<family_test> tests;
  std::vector<double> correlations;
  for (const auto& m : report.neuron_matching) {
    if (!m.available) continue;
    correlations.push_back(m.spearman);
    tests.push_back({m.p_value, "neuron matching of " + m.where(), m.spearman, m.z});
  }
  add_test_family(summary, neuron_matching_family, tests, median(correlations));
}

// One test per attention layer: do the matchings by q_proj rows and by o_proj columns agree
// (Spearman, against its permutation null)?
void add_head_matching(evidence_summary& summary, const comparison_report& report) {
  std::vector<family_test> tests;
  std::vector<double> correlations;
  for (const auto& m : report.head_matching) {
    if (!m.available) continue;
    correlations.push_back(m.spearman);
    tests.push_back({m.p_value, "head matching of " + m.where(), m.spearman, m.z});
  }
  add_test_family(summary, head_matching_family, tests, median(correlations));
}

// One test: do the matchings of the hidden dimensions on two halves of the embedding agree?
void add_hidden_matching(evidence_summary& summary, const comparison_report& report) {
  std::vector<family_test> tests;
  std::vector<double> correlations;
  for (const auto& m : report.hidden_matching) {
    if (!m.available) continue;
    correlations.push_back(m.spearman);
    tests.push_back({m.p_value, "hidden matching on " + m.role, m.spearman, m.z});
  }
  add_test_family(summary, hidden_matching_family, tests, median(correlations));
}

// One test: do B's shape-free fingerprints resemble A's at the same depth more than at other depths?
void add_fingerprints(evidence_summary& summary, const comparison_report& report) {
  const auto& test = report.fingerprints.test;
  std::vector<family_test> tests;
  if (test.available)
    tests.push_back({test.p_value, fmt::format("fingerprints of {} roles over {} layers", test.roles.size(),
                                               test.layers.size()),
                     test.statistic, test.z});
  add_test_family(summary, fingerprint_family, tests, test.available ? test.statistic : NAN);
}

// One test per role: the pair's median Pearson against the panel comparisons' medians. With M
// comparisons no p is below 1/(M + 1): a small panel can only add weight, never carry a verdict.
void add_reference_panel(evidence_summary& summary, const comparison_report& report) {
  std::vector<family_test> tests;
  std::vector<double> pearsons;
  for (const auto& r : report.panel.roles) {
    pearsons.push_back(r.pearson);
    tests.push_back({r.p_value, r.role, r.pearson, r.z});
  }
  add_test_family(summary, panel_family, tests, median(pearsons));
}

// The sentence the Solar/GLM claim needed: high raw cosine that the calibrated test does not back.
std::string raw_cosine_caution(const comparison_report& report, double alpha) {
  std::vector<double> cosines, null_cosines, pearsons;
  std::map<std::string, int> families;
  double smallest_p = 1;
  for (const auto& t : report.tensors) {
    if (!t.null.available || !(t.figures.cosine > 0.9) || t.null.p_value <= alpha) continue;
    cosines.push_back(t.figures.cosine);
    null_cosines.push_back(t.null.cosine.mean);
    pearsons.push_back(t.figures.pearson);
    smallest_p = std::min(smallest_p, t.null.p_value);
    ++families[role_family(t.pair.key.role)];
  }
  if (cosines.empty()) return {};
  const auto most = std::max_element(families.begin(), families.end(),
                                     [](const auto& x, const auto& y) { return x.second < y.second; });
  return fmt::format(
      "{} tensor pairs (mostly {}) have a raw cosine above 0.9 (mean {:.3f}), but their permutation "
      "nulls — what unrelated weights score — average {:.3f}, their median Pearson is {:.3f} and no p "
      "is below {:.2g}: a high raw cosine of these vectors is not evidence of derivation.",
      cosines.size(), most->first, mean(cosines), mean(null_cosines), median(pearsons), smallest_p);
}

// What real unrelated models score on the role where the pair's raw cosine looks most impressive.
std::string panel_cosine_note(const comparison_report& report) {
  const panel_role_figures* shown = nullptr;
  for (const auto& r : report.panel.roles)
    if (r.cosine > 0.9 && (shown == nullptr || r.panel_cosine_mean > shown->panel_cosine_mean)) shown = &r;
  if (shown == nullptr) return {};
  return fmt::format(
      "On {}, the reference panel's unrelated models score a median raw cosine of {:.3f} on average "
      "(the pair: {:.3f}) and a median Pearson of {:.3f} (the pair: {:.3f}).",
      shown->role, shown->panel_cosine_mean, shown->cosine, shown->panel_pearson_mean, shown->pearson);
}

}  // namespace

std::string role_family(std::string_view role) {
  if (starts_with(role, "mtp.")) return "mtp";
  if (contains(role, "router") || contains(role, "shared_expert_gate") || contains(role, "e_score_correction"))
    return "router";
  if (starts_with(role, "mlp.experts.")) return "experts";
  if (contains(role, "norm") || contains(role, "ln_")) return "norms";
  if (contains(role, "embed") || contains(role, "lm_head") || contains(role, "wte") || contains(role, "wpe"))
    return "embeddings";
  if (contains(role, "attn")) return "attention";
  if (contains(role, "mlp")) return "mlp";
  return "other";
}

evidence_summary assess_evidence(const comparison_report& report, double alpha) {
  evidence_summary summary;
  auto& verdict = summary.verdict;
  verdict.alpha = alpha;

  // Layers of the main stack, then the MTP blocks (whose keys number them from 0 too).
  std::map<std::pair<bool, int>, std::vector<const tensor_result*>> by_layer;
  std::map<std::string, std::vector<const tensor_result*>> by_family;
  for (const auto& t : report.tensors) {
    by_layer[{starts_with(t.pair.key.role, "mtp."), t.pair.key.layer}].push_back(&t);
    by_family[role_family(t.pair.key.role)].push_back(&t);
  }
  for (const auto& [where, members] : by_layer) {
    const auto& [mtp, layer] = where;
    const std::string name = layer < 0 ? (mtp ? "MTP" : "global")
                                       : fmt::format("{} {}", mtp ? "MTP block" : "layer", layer);
    summary.layers.push_back(combine(name, layer, members));
  }
  for (const auto& [family, members] : by_family) {
    group_evidence g = combine(family, -1, members);
    if (g.tensors > 0) summary.families.push_back(std::move(g));
  }

  add_layer_structure(summary, report);
  add_expert_matching(summary, report);
  add_neuron_matching(summary, report);
  add_head_matching(summary, report);
  add_hidden_matching(summary, report);
  add_fingerprints(summary, report);
  add_reference_panel(summary, report);

  std::vector<double> family_p;
  for (const auto& f : summary.families) family_p.push_back(f.harmonic.p);
  const std::vector<double> adjusted = holm_sidak(family_p);
  for (std::size_t i = 0; i < summary.families.size(); ++i) {
    summary.families[i].adjusted_p = adjusted[i];
    summary.families[i].significant = adjusted[i] <= alpha;
  }
  verdict.p_global = adjusted.empty() ? 1.0 : *std::min_element(adjusted.begin(), adjusted.end());
  std::vector<const group_evidence*> ordered;
  for (const auto& f : summary.families) ordered.push_back(&f);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const group_evidence* x, const group_evidence* y) { return x->adjusted_p < y->adjusted_p; });

  // Identical means the same tensors under the same names: a matching that moved experts found a
  // (function-preserving) relabelling, which is a derivation.
  const bool experts_in_place = std::all_of(report.expert_matching.begin(), report.expert_matching.end(),
                                            [](const expert_matching_figures& m) { return m.moved == 0; });
  const bool hidden_in_place = std::all_of(report.hidden_matching.begin(), report.hidden_matching.end(),
                                           [](const hidden_matching_figures& m) { return m.aligned_pairs == 0; });
  const bool heads_in_place = std::none_of(report.head_matching.begin(), report.head_matching.end(),
                                           [](const head_matching_figures& m) { return m.applied; });
  // Rows paired by shared tokens come from two vocabularies, which identical models do not have.
  const auto token_paired = std::find_if(report.tensors.begin(), report.tensors.end(), [](const tensor_result& t) {
    return t.pair.pairing.find("shared tokens") != std::string::npos;
  });
  const bool all_equal =
      !report.tensors.empty() && report.unpaired.empty() && experts_in_place && hidden_in_place && heads_in_place &&
      token_paired == report.tensors.end() &&
      std::all_of(report.tensors.begin(), report.tensors.end(), [](const tensor_result& t) {
        return t.moments.elements == 0 || t.moments.bitwise_equal == t.moments.elements;
      });
  const double smaller = static_cast<double>(
      std::min(report.model_a.parameter_count, report.model_b.parameter_count));
  const double coverage = smaller > 0 ? static_cast<double>(report.compared_elements) / smaller : 0;

  if (report.tensors.empty() && summary.families.empty()) {
    verdict.label = "inconclusive";
    verdict.evidence.push_back("The models have no tensor pair with a common key and shape; nothing was compared.");
  } else if (all_equal) {
    verdict.label = "identical";
    verdict.evidence.push_back(fmt::format(
        "All {} tensor pairs ({} elements) are equal bit for bit after conversion to a common dtype, "
        "and neither model has a tensor the other lacks.",
        report.tensors.size(), report.compared_elements));
  } else if (summary.families.empty()) {
    verdict.label = "inconclusive";
    verdict.evidence.push_back("No tensor pair has a usable permutation null (see each pair's null reason).");
  } else if (verdict.p_global <= alpha) {
    verdict.label = "derived";
  } else if (coverage < minimum_coverage) {
    verdict.label = "inconclusive";
    verdict.evidence.push_back(fmt::format(
        "Only {:.1f} % of the smaller model's parameters could be compared; too little to say there is "
        "no evidence.",
        100 * coverage));
  } else {
    verdict.label = "no evidence of derivation";
  }
  if (!summary.families.empty() && verdict.label != "inconclusive")
    verdict.evidence.push_back(fmt::format("Global p = {} (smallest Holm–Šidák-adjusted family p) at α = {}.",
                                           p_text(verdict.p_global), alpha));
  for (const group_evidence* f : ordered) verdict.evidence.push_back(family_line(*f, report));
  if (verdict.label == "derived")
    for (const group_evidence* f : ordered)
      if (f->significant) verdict.carried_by.push_back(f->name);

  if (const std::string caution = raw_cosine_caution(report, alpha); !caution.empty())
    verdict.notes.push_back(caution);
  if (const std::string panel = panel_cosine_note(report); !panel.empty()) verdict.notes.push_back(panel);
  std::size_t disagreeing = 0, with_null = 0;
  for (const auto& t : report.tensors) {
    with_null += t.null.available;
    disagreeing += t.null.available && t.null.closed_form_disagrees;
  }
  if (disagreeing > 0)
    verdict.notes.push_back(fmt::format(
        "In {} of {} tensor pairs the closed-form null of Pearson (√n·r ≈ N(0, 1)) disagrees with the "
        "permutation null (structured tensors); the verdict uses the permutation null.",
        disagreeing, with_null));
  if (verdict.label == "no evidence of derivation")
    verdict.notes.push_back(
        "No evidence of derivation is not proof of independence: it holds only for the invariances "
        "tested below.");

  verdict.invariances_tested = {
      "tensors paired by canonical key (layer, role, expert) across architectures and names",
      "element-aligned comparison: fine-tuning drift, added noise",
      "dtype changes and re-sharding (bitwise equality after conversion to a common dtype)",
      "layer order: layer-specific matches (cross-layer test) and a monotone depth alignment that "
      "allows dropped and repeated layers"};
  verdict.invariances_not_tested.clear();
  if (token_paired != report.tensors.end())
    verdict.invariances_tested.push_back(
        fmt::format("vocabulary changes: embedding rows of shared tokens ({} of A's {}), against random token "
                    "pairings",
                    token_paired->pair.rows_a.size(), token_paired->pair.a.shape.front()));
  else
    verdict.invariances_not_tested.push_back("vocabulary changes (embedding rows of shared tokens)");
  const bool heads = std::any_of(report.head_matching.begin(), report.head_matching.end(),
                                 [](const head_matching_figures& m) { return m.available; });
  (heads ? verdict.invariances_tested : verdict.invariances_not_tested)
      .push_back(heads ? "permutation of attention heads (query heads within their KV group, KV heads with their "
                         "group; with the hidden dimensions aligned): matchings by q_proj rows and by o_proj columns "
                         "compared by Spearman correlation against a permutation null"
                       : "permutation of attention heads (no attention layer was matched)");
  const bool neurons = std::any_of(report.neuron_matching.begin(), report.neuron_matching.end(),
                                   [](const neuron_matching_figures& m) { return m.available; });
  (neurons ? verdict.invariances_tested : verdict.invariances_not_tested)
      .push_back(neurons ? "permutation of MLP neurons (dense and shared-expert MLPs; with the hidden dimensions "
                           "aligned): matchings by gate_proj and by up_proj rows compared by Spearman correlation"
                         : "permutation of MLP neurons (no MLP was matched)");
  const bool folded = std::any_of(report.tensors.begin(), report.tensors.end(),
                                  [](const tensor_result& t) { return t.null.available && t.null.folded; });
  (folded ? verdict.invariances_tested : verdict.invariances_not_tested)
      .push_back(folded ? "rescaling of a norm weight against the linear layers that read it, and of their rows: "
                          "those layers are tested by the row directions of the norm-folded matrix"
                        : "rescaling of norm weights against the layers that read them (no such pair had a null)");
  const bool hidden = std::any_of(report.hidden_matching.begin(), report.hidden_matching.end(),
                                  [](const hidden_matching_figures& m) { return m.available; });
  (hidden ? verdict.invariances_tested : verdict.invariances_not_tested)
      .push_back(hidden ? "permutation and sign flips of the hidden dimension: the embedding's columns matched on "
                          "|Pearson| on two halves of the shared token rows, the matchings compared by Spearman "
                          "correlation"
                        : "permutation of the hidden dimension (no embedding in both models)");
  const bool fingerprinted = report.fingerprints.test.available;
  if (!report.fingerprints.pairs.empty())
    (fingerprinted ? verdict.invariances_tested : verdict.invariances_not_tested)
        .push_back(fingerprinted
                       ? "other widths (pruning): shape-free fingerprints (moments, leading singular values) of the "
                         "tensors that cannot be aligned, against a shifted-layer cross-model null"
                       : "other widths (pruning): too few layers of fingerprinted tensors for the shifted-layer null");
  const bool matched = std::any_of(report.expert_matching.begin(), report.expert_matching.end(),
                                   [](const expert_matching_figures& m) { return m.available; });
  (matched ? verdict.invariances_tested : verdict.invariances_not_tested)
      .push_back(matched ? "permutation and pruning of routed experts: experts matched by optimal assignment per "
                           "MoE layer, router rows compared in the matched order"
                         : "permutation of experts (no MoE layer was matched)");
  return summary;
}

}  // namespace lineage
