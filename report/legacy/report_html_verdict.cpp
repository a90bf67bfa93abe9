// report.html: the verdict banner, the summary, the families and the test units behind the verdict.
#include "report/legacy/report_html_sections.hpp"

#include <fmt/format.h>

#include <string>

#include "report/legacy/document_fields.hpp"
#include "report/svg_chart.hpp"
#include "report/verdict_wording.hpp"

namespace lineage::legacy_html {

using namespace legacy_document;  // NOLINT: the field readers every section uses

namespace {

std::string banner_class(const std::string& label) {
  if (label == "derived" || label == "identical") return "derived";
  if (label == "no evidence of derivation") return "none";
  return "inconclusive";
}

std::string list_items(const json& items) {
  std::string out;
  if (items.is_array())
    for (const auto& item : items)
      if (item.is_string()) out += "<li>" + e(item.get<std::string>()) + "</li>";
  return out;
}

}  // namespace

std::string verdict_section(const json& report) {
  const json& v = at(report, "verdict");
  const std::string label = str(v, "label");
  std::string out = fmt::format("<section class=\"banner {}\" id=\"verdict\"><h2>{}</h2><p class=\"meaning\">{}</p>",
                                banner_class(label), e(verdict_headline(label, num(v, "p_global"), num(v, "alpha"))),
                                e(verdict_meaning(label)));
  std::string carried;
  for (const auto& c : at(v, "carried_by")) carried += (carried.empty() ? "" : ", ") + (c.is_string() ? c.get<std::string>() : "");
  if (!carried.empty()) out += "<p>Carried by: " + e(carried) + ".</p>";
  out += "<ul>" + list_items(at(v, "evidence")) + "</ul>";
  for (const auto& note : at(v, "notes"))
    if (note.is_string()) out += "<p class=\"note\">Note: " + e(note.get<std::string>()) + "</p>";
  std::string untested;
  for (const auto& c : at(v, "invariances_not_tested"))
    untested += (untested.empty() ? "" : "; ") + (c.is_string() ? c.get<std::string>() : "");
  if (!untested.empty()) out += "<p>Not tested: " + e(untested) + ".</p>";
  out += "<details><summary>Invariances tested</summary><ul>" + list_items(at(v, "invariances_tested")) +
         "</ul></details></section>";
  return out;
}

std::string summary_section(const json& report) {
  const json& s = at(report, "summary");
  const json& a = at(at(report, "models"), "a");
  const json& b = at(at(report, "models"), "b");
  return fmt::format(
      "<table><tbody><tr><th>model A</th><td>{}</td><td>{}</td><td class=\"n\">{} tensors</td></tr>"
      "<tr><th>model B</th><td>{}</td><td>{}</td><td class=\"n\">{} tensors</td></tr></tbody></table>"
      "<p>{} tensor pairs compared ({} element pairs); {} tensors of A and {} of B without a partner; {} pairs with "
      "non-finite values. Every similarity below is shown beside its null: what unrelated weights score.</p>",
      e(str(a, "path")), e(str(a, "model_type")), layer_text(at(a, "tensor_count")), e(str(b, "path")),
      e(str(b, "model_type")), layer_text(at(b, "tensor_count")), layer_text(at(s, "tensor_pairs")),
      layer_text(at(s, "compared_elements")), layer_text(at(s, "unpaired_a")), layer_text(at(s, "unpaired_b")),
      layer_text(at(s, "tensors_with_nonfinite")));
}

// The families (by unit kind, the panel, then the descriptive ones), and the layers (their units).
std::string families_section(const json& report) {
  std::string rows;
  for (const auto& f : at(report, "families")) {
    const bool descriptive = flag(f, "descriptive");
    rows += fmt::format("<tr><td>{}{}</td><td class=\"n\">{} {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                        "class=\"n\">{} ({})</td><td class=\"n {}\">{}</td><td>{}</td></tr>",
                        e(str(f, "name")), descriptive ? " <small>(descriptive)</small>" : "",
                        layer_text(at(f, "tensors")), e(str(f, "unit")), fixed(num(f, "median_pearson")),
                        fixed(num(f, "mean_null_cosine")), pval(num(f, "p")), e(str(f, "method")),
                        flag(f, "significant") ? "sig" : "", descriptive ? std::string("—") : pval(num(f, "holm_sidak_p")),
                        e(str(f, "strongest")));
  }
  std::string layers;
  for (const auto& l : at(report, "layers"))
    layers += fmt::format("<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                          "class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                          e(str(l, "name")), layer_text(at(l, "tensors")), fixed(num(l, "median_pearson")),
                          fixed(num(l, "mean_cosine")), fixed(num(l, "mean_null_cosine")), pval(num(l, "p")));
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
std::string units_section(const json& report) {
  constexpr std::size_t shown = 2000;
  std::string rows;
  std::size_t count = 0;
  for (const auto& u : at(report, "units")) {
    if (++count > shown) continue;
    rows += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                        "class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                        e(str(u, "label")), e(str(u, "group")), layer_text(at(u, "used")),
                        layer_text(at(u, "permutations")), fixed(num(u, "z"), 1), pval(num(u, "p")),
                        pval(num(u, "p_floor")), e(flag(u, "available") ? str(u, "strongest") : str(u, "reason")));
  }
  if (count == 0) return "";
  const std::string more =
      count > shown ? fmt::format("<p>The first {} of {} units; report.json has all.</p>", shown, count) : "";
  return "<h2 id=\"units\">Test units</h2><p>Each unit is the tensors one symmetry of the architecture permutes, "
         "tested together under the same draws; its p never goes below 1/(K + 1). The global p is Fisher's "
         "method over the units.</p>" +
         more +
         "<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>unit</th><th>group</th><th "
         "class=\"n\">tensors</th><th class=\"n\">K</th><th class=\"n\">z</th><th class=\"n\">p</th><th "
         "class=\"n\">floor</th><th>strongest, or why not</th></tr></thead><tbody>" +
         rows + "</tbody></table></div>";
}

}  // namespace lineage::legacy_html
