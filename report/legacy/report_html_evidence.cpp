// report.html: neuron, head, hidden and expert matching, the tokenizers, the reference panel.
#include "report/legacy/report_html_sections.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "report/legacy/document_fields.hpp"
#include "report/svg_chart.hpp"
#include "report/verdict_wording.hpp"

namespace lineage::legacy_html {

using namespace legacy_document;  // NOLINT: the field readers every section uses

std::string matching_section(const json& report) {
  std::string out;
  for (const auto& h : at(report, "hidden_matching")) {
    if (!flag(h, "available")) continue;
    const auto combined = ints(at(h, "combined"));
    out += "<div class=\"figures\"><figure>" +
           svg::matching_plot("hidden dimensions: B's dimension matched to each of A's", combined,
                              static_cast<std::size_t>(std::max(0.0, num(h, "hidden_b"))), "dimension of A", "dimension of B") +
           fmt::format("<figcaption>Matched on {} (|Pearson|, two halves of the rows); Spearman of the two matchings {} "
                       "over {} dimensions, p = {}; {} moved; mean |Pearson| of the matched columns {}.</figcaption>"
                       "</figure></div>",
                       e(str(h, "role")), fixed(num(h, "spearman")), layer_text(at(h, "ranked")), pval(num(h, "p_value")),
                       layer_text(at(h, "moved")), fixed(num(h, "combined_similarity")));
  }
  std::string experts;
  std::size_t drawn = 0, more = 0;
  std::string expert_rows;
  for (const auto& m : at(report, "expert_matching")) {
    expert_rows += fmt::format("<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                               "class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                               layer_text(at(m, "layer")), flag(m, "available") ? "yes" : "no", fixed(num(m, "score")),
                               fixed(num(m, "identity_score")), pval(num(m, "p_value")), layer_text(at(m, "moved")),
                               e(str(m, "reason")));
    if (!flag(m, "available")) continue;
    if (drawn == max_expert_layers) {
      ++more;
      continue;
    }
    std::size_t rows = 0, cols = 0;
    const auto values = flatten(at(m, "similarity"), rows, cols);
    std::vector<std::pair<std::size_t, std::size_t>> marks;
    const auto matched = ints(at(m, "matched_b"));
    for (std::size_t i = 0; i < matched.size(); ++i)
      if (matched[i] >= 0) marks.emplace_back(i, static_cast<std::size_t>(matched[i]));
    const double extent = symmetric_extent(values);
    if (rows > 0 && cols > 0) {
      experts += "<figure>" +
                 svg::heatmap(fmt::format("layer {}: expert similarity, A × B", layer_text(at(m, "layer"))), values, rows,
                              cols, "expert of A", "expert of B", -extent, extent, marks, names(at(m, "experts_a")),
                              names(at(m, "experts_b"))) +
                 "<figcaption>Outlined: the optimal assignment.</figcaption></figure>";
      ++drawn;
    }
  }
  if (!experts.empty() || !expert_rows.empty()) {
    out += "<h3>Expert matching</h3>";
    if (!experts.empty()) out += "<div class=\"figures\">" + experts + "</div>";
    if (more > 0) out += fmt::format("<p>{} more layers' matrices are in report.h5 (/expert_matching).</p>", more);
    out += "<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th class=\"n\">layer</th><th>matched</th><th "
           "class=\"n\">score</th><th class=\"n\">identity score</th><th class=\"n\">p</th><th class=\"n\">moved</th>"
           "<th>reason</th></tr></thead><tbody>" +
           expert_rows + "</tbody></table></div>";
  }
  const auto agreement_table = [&](const char* key, const char* title, const char* unit) {
    std::string rows;
    for (const auto& m : at(report, key))
      rows += fmt::format("<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                          "class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                          layer_text(at(m, "layer")), flag(m, "available") ? "yes" : "no", layer_text(at(m, "ranked")),
                          fixed(num(m, "spearman")), pval(num(m, "p_value")), layer_text(at(m, "moved")),
                          at(m, "applied").is_boolean() ? (flag(m, "applied") ? "applied" : "not applied") : "",
                          e(str(m, "reason")));
    if (rows.empty()) return std::string();
    return fmt::format("<h3>{}</h3><div class=\"scroll\"><table class=\"sortable\"><thead><tr><th class=\"n\">layer</th>"
                       "<th>matched</th><th class=\"n\">{} ranked</th><th class=\"n\">Spearman</th><th class=\"n\">p</th>"
                       "<th class=\"n\">moved</th><th>order</th><th>reason</th></tr></thead><tbody>{}</tbody></table></div>",
                       title, unit, rows);
  };
  out += agreement_table("neuron_matching", "Neuron matching (MLPs)", "neurons");
  out += agreement_table("head_matching", "Head matching (attention layers)", "heads");
  if (out.empty()) return "";
  return "<h2 id=\"matching\">Alignment and matching</h2><p>A derivative may be disguised by permuting hidden "
         "dimensions, heads, neurons or experts; each is matched, and the matching is tested by the agreement of two "
         "independent matchings (Spearman) against a permutation null.</p>" +
         out;
}

std::string tokenizer_section(const json& report) {
  const json& t = at(report, "tokenizers");
  if (!flag(t, "available"))
    return "<h2 id=\"tokenizers\">Tokenizers</h2><p>" + e(str(t, "reason").empty() ? "No tokenizer comparison." : str(t, "reason")) + "</p>";
  const double size_a = num(t, "size_a"), size_b = num(t, "size_b"), shared = num(t, "shared");
  std::string out = "<h2 id=\"tokenizers\">Tokenizers</h2><div class=\"figures\"><figure>" +
                    svg::share_bars("vocabulary overlap", {{"shared / size of A", shared / size_a},
                                                           {"shared / size of B", shared / size_b},
                                                           {"Jaccard", num(t, "jaccard")},
                                                           {"same id / size of A", num(t, "same_id") / size_a}}) +
                    fmt::format("<figcaption>A: {} tokens, B: {}; {} shared, {} with the same id; merge-rank Spearman "
                                "{}.</figcaption></figure></div>",
                                fixed(size_a, 0), fixed(size_b, 0), fixed(shared, 0), fixed(num(t, "same_id"), 0),
                                fixed(num(t, "merge_rank_spearman")));
  if (!str(t, "note").empty()) out += "<p class=\"note\">" + e(str(t, "note")) + "</p>";
  return out;
}

std::string panel_section(const json& report) {
  const json& panel = at(report, "reference_panel");
  std::string comparisons;
  for (const auto& c : at(panel, "comparisons"))
    comparisons += fmt::format("<tr><td>model {}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                               e(str(c, "side") == "a" ? "A" : "B"), e(str(c, "reference")), e(str(c, "source")),
                               layer_text(at(c, "tensor_pairs")));
  std::string roles;
  for (const auto& r : at(panel, "roles"))
    roles += fmt::format("<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                         "class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                         e(str(r, "role")), fixed(num(r, "pearson")), fixed(num(r, "panel_pearson_mean")),
                         fixed(num(r, "panel_pearson_max")), fixed(num(r, "cosine")), fixed(num(r, "panel_cosine_max")),
                         pval(num(r, "p_value")));
  if (comparisons.empty() && roles.empty()) return "";
  std::string out = "<h2 id=\"panel\">Reference panel</h2><p>Comparisons of A and of B with models known to be "
                    "unrelated to both: what they score is a further null per role.</p>";
  if (!roles.empty())
    out += "<table class=\"sortable\"><thead><tr><th>role</th><th class=\"n\">A vs B Pearson</th><th class=\"n\">panel "
           "mean</th><th class=\"n\">panel max</th><th class=\"n\">A vs B raw cosine</th><th class=\"n\">panel max "
           "cosine</th><th class=\"n\">p</th></tr></thead><tbody>" +
           roles + "</tbody></table>";
  if (!comparisons.empty())
    out += "<table><thead><tr><th>side</th><th>reference</th><th>source</th><th class=\"n\">tensor pairs</th></tr>"
           "</thead><tbody>" +
           comparisons + "</tbody></table>";
  return out;
}

}  // namespace lineage::legacy_html
