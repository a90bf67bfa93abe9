// report.html: neuron, head, hidden and expert matching, the tokenizers, the reference panel.
#include "report/report_html_sections.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "report/number_text.hpp"
#include "report/svg_chart.hpp"

namespace lineage::html {

using namespace number_text;  // NOLINT: the number formats every section uses

namespace {

std::string hidden_figures(const std::vector<hidden_matching_figures>& hidden) {
  std::string out;
  for (const hidden_matching_figures& h : hidden) {
    if (!h.available) continue;
    out += "<div class=\"figures\"><figure>" +
           svg::matching_plot("hidden dimensions: B's dimension matched to each of A's", h.combined,
                              static_cast<std::size_t>(h.hidden_b), "dimension of A", "dimension of B") +
           fmt::format("<figcaption>Matched on {} (|Pearson|, two halves of the rows); Spearman of the two matchings {} "
                       "over {} dimensions, p = {}; {} moved; mean |Pearson| of the matched columns {}.</figcaption>"
                       "</figure></div>",
                       e(h.role), fixed(h.spearman), h.ranked, pval(h.p_value), h.moved, fixed(h.combined_similarity));
  }
  return out;
}

std::string expert_heatmap(const expert_matching_figures& m) {
  const matrix_view values = matrix_of(m.similarity, m.experts_b.size());
  std::vector<std::pair<std::size_t, std::size_t>> marks;
  for (std::size_t i = 0; i < m.matched_b.size(); ++i)
    if (m.matched_b[i] >= 0) marks.emplace_back(i, static_cast<std::size_t>(m.matched_b[i]));
  const double extent = symmetric_extent(values.values);
  if (values.rows == 0 || values.cols == 0) return "";
  return "<figure>" +
         svg::heatmap(fmt::format("layer {}: expert similarity, A × B", m.layer), values.values, values.rows,
                      values.cols, "expert of A", "expert of B", -extent, extent, marks, names(m.experts_a),
                      names(m.experts_b)) +
         "<figcaption>Outlined: the optimal assignment.</figcaption></figure>";
}

std::string expert_matching(const std::vector<expert_matching_figures>& matching) {
  std::string experts, expert_rows;
  std::size_t drawn = 0, more = 0;
  for (const expert_matching_figures& m : matching) {
    const bool ok = m.available;
    expert_rows += fmt::format("<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                               "class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                               m.layer, ok ? "yes" : "no", fixed(when(ok, m.score)), fixed(when(ok, m.identity_score)),
                               pval(when(ok, m.p_value)), ok ? std::to_string(m.moved) : "–", e(m.reason));
    if (!ok) continue;
    if (drawn == max_expert_layers) {
      ++more;
      continue;
    }
    const std::string figure = expert_heatmap(m);
    if (!figure.empty()) {
      experts += figure;
      ++drawn;
    }
  }
  if (experts.empty() && expert_rows.empty()) return "";
  std::string out = "<h3>Expert matching</h3>";
  if (!experts.empty()) out += "<div class=\"figures\">" + experts + "</div>";
  if (more > 0) out += fmt::format("<p>{} more layers' matrices are in report.h5 (/expert_matching).</p>", more);
  return out + "<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th class=\"n\">layer</th><th>matched</th><th "
               "class=\"n\">score</th><th class=\"n\">identity score</th><th class=\"n\">p</th><th class=\"n\">moved</th>"
               "<th>reason</th></tr></thead><tbody>" +
         expert_rows + "</tbody></table></div>";
}

// `order`: the "order" cell ("applied" / "not applied" for head matching, "" for neuron matching).
template <class Figures, class Order>
std::string agreement_table(const std::vector<Figures>& matching, const char* title, const char* unit, Order order) {
  std::string rows;
  for (const Figures& m : matching) {
    const bool ok = m.available;
    rows += fmt::format("<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                        "class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                        m.layer, ok ? "yes" : "no", ok ? std::to_string(m.ranked) : "–", fixed(when(ok, m.spearman)),
                        pval(when(ok, m.p_value)), ok ? std::to_string(m.moved) : "–", order(m), e(m.reason));
  }
  if (rows.empty()) return std::string();
  return fmt::format("<h3>{}</h3><div class=\"scroll\"><table class=\"sortable\"><thead><tr><th class=\"n\">layer</th>"
                     "<th>matched</th><th class=\"n\">{} ranked</th><th class=\"n\">Spearman</th><th class=\"n\">p</th>"
                     "<th class=\"n\">moved</th><th>order</th><th>reason</th></tr></thead><tbody>{}</tbody></table></div>",
                     title, unit, rows);
}

}  // namespace

std::string matching_section(const comparison_report& report) {
  std::string out = hidden_figures(report.hidden_matching);
  out += expert_matching(report.expert_matching);
  out += agreement_table(report.neuron_matching, "Neuron matching (MLPs)", "neurons",
                         [](const neuron_matching_figures&) { return std::string(); });
  out += agreement_table(report.head_matching, "Head matching (attention layers)", "heads",
                         [](const head_matching_figures& m) { return std::string(m.applied ? "applied" : "not applied"); });
  if (out.empty()) return "";
  return "<h2 id=\"matching\">Alignment and matching</h2><p>A derivative may be disguised by permuting hidden "
         "dimensions, heads, neurons or experts; each is matched, and the matching is tested by the agreement of two "
         "independent matchings (Spearman) against a permutation null.</p>" +
         out;
}

std::string tokenizer_section(const tokenizer_overlap& t) {
  if (!t.available)
    return "<h2 id=\"tokenizers\">Tokenizers</h2><p>" + e(t.reason.empty() ? "No tokenizer comparison." : t.reason) +
           "</p>";
  const double size_a = count_value(t.size_a), size_b = count_value(t.size_b), shared = count_value(t.shared);
  const double same_id = count_value(t.same_id);
  std::string out = "<h2 id=\"tokenizers\">Tokenizers</h2><div class=\"figures\"><figure>" +
                    svg::share_bars("vocabulary overlap", {{"shared / size of A", shared / size_a},
                                                           {"shared / size of B", shared / size_b},
                                                           {"Jaccard", t.jaccard},
                                                           {"same id / size of A", same_id / size_a}}) +
                    fmt::format("<figcaption>A: {} tokens, B: {}; {} shared, {} with the same id; merge-rank Spearman "
                                "{}.</figcaption></figure></div>",
                                fixed(size_a, 0), fixed(size_b, 0), fixed(shared, 0), fixed(same_id, 0),
                                fixed(t.merge_rank_spearman));
  if (!t.note.empty()) out += "<p class=\"note\">" + e(t.note) + "</p>";
  return out;
}

std::string panel_section(const panel_figures& panel) {
  std::string comparisons;
  for (const panel_comparison& c : panel.comparisons)
    comparisons += fmt::format("<tr><td>model {}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                               e(c.side == 'a' ? "A" : "B"), e(c.reference), e(c.source), c.tensors.size());
  std::string roles;
  for (const panel_role_figures& r : panel.roles)
    roles += fmt::format("<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                         "class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                         e(r.role), fixed(r.pearson), fixed(r.panel_pearson_mean), fixed(r.panel_pearson_max),
                         fixed(r.cosine), fixed(r.panel_cosine_max), pval(r.p_value));
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

}  // namespace lineage::html
