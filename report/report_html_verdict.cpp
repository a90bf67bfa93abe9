// report.html: the verdict banner, the summary, the families and the test units behind the verdict.
#include "report/report_html_sections.hpp"

#include <fmt/format.h>

#include <string>

#include "report/number_text.hpp"
#include "report/verdict_wording.hpp"

namespace lineage::html {

using namespace number_text;  // NOLINT: the number formats every section uses

namespace {

std::string banner_class(const std::string& label) {
  if (label == "derived" || label == "identical") return "derived";
  if (label == "no evidence of derivation") return "none";
  return "inconclusive";
}

std::string list_items(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += "<li>" + e(item) + "</li>";
  return out;
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

}  // namespace

std::string verdict_section(const verdict_report& v) {
  std::string out = fmt::format(
      "<section class=\"banner {}\" id=\"verdict\"><h2>{}</h2><p class=\"meaning\">{}</p>", banner_class(v.label),
      e(verdict_headline(v.label, finite_or_nan(v.p_global), finite_or_nan(v.alpha))), e(verdict_meaning(v.label)));
  const std::string carried = joined(v.carried_by, ", ");
  if (!carried.empty()) out += "<p>Carried by: " + e(carried) + ".</p>";
  out += "<ul>" + list_items(v.evidence) + "</ul>";
  for (const auto& note : v.notes) out += "<p class=\"note\">Note: " + e(note) + "</p>";
  const std::string untested = joined(v.invariances_not_tested, "; ");
  if (!untested.empty()) out += "<p>Not tested: " + e(untested) + ".</p>";
  out += "<details><summary>Invariances tested</summary><ul>" + list_items(v.invariances_tested) +
         "</ul></details></section>";
  return out;
}

std::string summary_section(const comparison_report& report) {
  const model_description& a = report.model_a;
  const model_description& b = report.model_b;
  return fmt::format(
      "<table><tbody><tr><th>model A</th><td>{}</td><td>{}</td><td class=\"n\">{} tensors</td></tr>"
      "<tr><th>model B</th><td>{}</td><td>{}</td><td class=\"n\">{} tensors</td></tr></tbody></table>"
      "<p>{} tensor pairs compared ({} element pairs); {} tensors of A and {} of B without a partner; {} pairs with "
      "non-finite values. Every similarity below is shown beside its null: what unrelated weights score.</p>",
      e(a.path), e(a.model_type), a.tensor_count, e(b.path), e(b.model_type), b.tensor_count, report.tensors.size(),
      report.compared_elements, report.unpaired_a, report.unpaired_b, report.tensors_with_nonfinite);
}

// The families (by unit kind, the panel, then the descriptive ones), and the layers (their units).
std::string families_section(const evidence_summary& evidence) {
  std::string rows;
  for (const group_evidence& f : evidence.families) {
    rows += fmt::format("<tr><td>{}{}</td><td class=\"n\">{} {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                        "class=\"n\">{} ({})</td><td class=\"n {}\">{}</td><td>{}</td></tr>",
                        e(f.name), f.descriptive ? " <small>(descriptive)</small>" : "", f.tensors, e(f.unit),
                        fixed(f.median_pearson), fixed(f.mean_null_cosine), pval(f.p), e(f.method),
                        f.significant ? "sig" : "", f.descriptive ? std::string("—") : pval(f.adjusted_p),
                        e(f.strongest));
  }
  std::string layers;
  for (const group_evidence& l : evidence.layers)
    layers += fmt::format("<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                          "class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                          e(l.name), l.tensors, fixed(l.median_pearson), fixed(l.mean_cosine),
                          fixed(l.mean_null_cosine), pval(l.p));
  return "<h2 id=\"families\">Evidence by family and by layer</h2><p>A family is the units of one kind, "
         "combined by Fisher's method; descriptive families are shown but never carry the verdict.</p>"
         "<table class=\"sortable\"><thead><tr><th>family</th><th class=\"n\">combined</th><th class=\"n\">median "
         "Pearson</th><th class=\"n\">mean null cosine</th><th class=\"n\">p</th><th class=\"n\">Holm–Šidák p</th>"
         "<th>strongest</th></tr></thead><tbody>" +
         rows +
         "</tbody></table><div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>layer</th><th "
         "class=\"n\">units</th><th class=\"n\">median Pearson</th><th class=\"n\">mean raw cosine</th><th "
         "class=\"n\">mean null cosine</th><th class=\"n\">Fisher p</th></tr></thead><tbody>" +
         layers + "</tbody></table></div>";
}

// Every test unit: what it permutes, its draws, its p and the floor those draws allow.
std::string units_section(const std::vector<unit_figures>& units) {
  constexpr std::size_t shown = 2000;
  std::string rows;
  for (std::size_t i = 0; i < units.size() && i < shown; ++i) {
    const unit_figures& u = units[i];
    rows += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                        "class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                        e(u.label), e(u.group), u.used, u.permutations, fixed(when(u.available, u.z), 1),
                        pval(when(u.available, u.p)), pval(u.p_floor), e(u.available ? u.strongest : u.reason));
  }
  if (units.empty()) return "";
  const std::string more = units.size() > shown
                               ? fmt::format("<p>The first {} of {} units; report.json has all.</p>", shown, units.size())
                               : "";
  return "<h2 id=\"units\">Test units</h2><p>Each unit is the tensors one symmetry of the architecture permutes, "
         "tested together under the same draws; its p never goes below 1/(K + 1). The global p is Fisher's "
         "method over the units.</p>" +
         more +
         "<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>unit</th><th>group</th><th "
         "class=\"n\">tensors</th><th class=\"n\">K</th><th class=\"n\">z</th><th class=\"n\">p</th><th "
         "class=\"n\">floor</th><th>strongest, or why not</th></tr></thead><tbody>" +
         rows + "</tbody></table></div>";
}

}  // namespace lineage::html
