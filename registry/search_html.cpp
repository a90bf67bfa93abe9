#include "registry/search_html.hpp"

#include <fmt/format.h>

#include <cmath>

#include "report/report_html.hpp"
#include "report/svg_chart.hpp"

namespace lineage {
namespace {

constexpr std::size_t detailed_candidates = 10;

std::string e(const std::string& text) { return svg::escape(text); }

std::string number(double x) { return std::isfinite(x) ? fmt::format("{:.3g}", x) : "–"; }

std::string banner_class(const std::string& verdict) {
  if (verdict == "derived" || verdict == "identical") return "derived";
  return verdict == "inconclusive" ? "inconclusive" : "none";
}

std::string verdict_banner(const search_result& r) {
  if (r.candidates.empty())
    return "<div class=\"banner inconclusive\"><h2>No members</h2><p>The registry lists no model.</p></div>";
  const search_candidate& top = r.candidates.front();
  const bool found = top.verdict == "derived" || top.verdict == "identical";
  std::string title = found ? fmt::format("{}: {}", top.verdict, e(top.member.name))
                            : "No registered model is significantly an ancestor";
  return fmt::format("<div class=\"banner {}\"><h2>{}</h2><p class=\"meaning\">{}</p><ul><li>{} members tested; "
                     "α = {} across them (Holm)</li><li>first candidate: {} ({}), adjusted p {}, registry z {}</li>"
                     "</ul></div>",
                     banner_class(found ? top.verdict : "none"), title, e(top.reason), r.candidates.size(),
                     r.options.alpha, e(top.member.name), e(top.verdict), number(top.adjusted_p),
                     number(top.registry_z));
}

std::string registry_null_figure(const search_result& r) {
  if (r.candidates.size() < 2) return "";
  std::vector<double> others;
  for (std::size_t i = 1; i < r.candidates.size(); ++i)
    if (!r.candidates[i].evidence.units.empty()) others.push_back(r.candidates[i].evidence.score);
  if (others.empty()) return "";
  return "<h2>The registry's own null</h2><p>Scores (Σ z / √units) of every other member against the query: what "
         "unrelated models score. The first candidate is marked.</p><div class=\"figures\"><figure>" +
         svg::histogram("member scores", others, r.candidates.front().evidence.score, "score") + "</figure></div>";
}

std::string candidates_table(const search_result& r) {
  std::string t = "<h2>Every member</h2><table class=\"sortable\"><thead><tr><th>rank</th><th>member</th>"
                  "<th>verdict</th><th>adjusted p</th><th>p</th><th>registry z</th><th>units</th>"
                  "<th>shared tokens</th><th>model_type</th></tr></thead><tbody>";
  for (std::size_t i = 0; i < r.candidates.size(); ++i) {
    const search_candidate& c = r.candidates[i];
    t += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                     "<td>{}</td></tr>",
                     i + 1, e(c.member.name), e(c.verdict), number(c.adjusted_p), number(c.evidence.p),
                     number(c.registry_z), c.evidence.units.size(), c.evidence.shared_rows, e(c.model_type));
  }
  return t + "</tbody></table>";
}

std::string candidate_tests(const search_candidate& c) {
  std::string t = fmt::format("<h3>{} — {}</h3><p>{}{}</p><table><thead><tr><th>family</th><th>unit</th>"
                              "<th>statistic</th><th>z</th><th>p</th><th>draws</th></tr></thead><tbody>",
                              e(c.member.name), e(c.verdict), e(c.reason),
                              c.evidence.note.empty() ? "" : " (" + e(c.evidence.note) + ")");
  for (const unit_evidence& u : c.evidence.units)
    t += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", e(u.family),
                     e(u.label), number(u.observed), number(u.z), number(u.p), u.draws);
  return t + "</tbody></table>";
}

}  // namespace

std::string search_html(const search_result& r) {
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>lineage search: " +
                     e(r.query_name) + "</title><style>" + report_page_style() + "</style></head><body>";
  page += "<h1>Which registered model, if any, is this one derived from?</h1><p class=\"sub\">query: " +
          e(r.query_source) + " (" + e(r.query_model_type) + ", checkpoint digest " + e(r.query_checkpoint) +
          ")<br>registry: " + e(r.registry) + "</p>";
  page += verdict_banner(r);
  page += registry_null_figure(r);
  page += candidates_table(r);
  if (!r.compares.empty()) {
    page += "<h2>Full comparisons of the first candidates</h2><table><thead><tr><th>member</th><th>status</th>"
            "<th>verdict</th><th>global p</th><th>report</th></tr></thead><tbody>";
    for (const compare_run& c : r.compares)
      page += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", e(c.member), e(c.status),
                          e(c.verdict), number(c.p), c.output.empty() ? "" : e(c.output + "/report.html"));
    page += "</tbody></table>";
  }
  page += "<h2>The first candidates' tests</h2><p>Each unit is a permutation test over one symmetry of the "
          "member's architecture (token rows: hidden dimensions; heads: KV heads with their query groups; values: "
          "the dimensions inside each KV head); a member's p is Fisher's combination of its units.</p>";
  for (std::size_t i = 0; i < r.candidates.size() && i < detailed_candidates; ++i) page += candidate_tests(r.candidates[i]);
  page += fmt::format("<p class=\"sub\">lineage {}; seed {}, {} draws per unit ({} for a unit with under 10 at or "
                      "above its statistic)</p>",
                      e(r.tool_version), r.options.seed, r.options.draws, r.options.deep_draws);
  return page + std::string("<script>") + report_page_script() + "</script></body></html>\n";
}

}  // namespace lineage
