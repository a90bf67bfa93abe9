// report.html: the tensor table, the unpaired tensors and the run's manifest.
#include "report/legacy/report_html_sections.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "report/legacy/document_fields.hpp"
#include "report/svg_chart.hpp"
#include "report/verdict_wording.hpp"

namespace lineage::legacy_html {

using namespace legacy_document;  // NOLINT: the field readers every section uses

std::string tensors_section(const json& report) {
  std::string rows;
  for (const auto& t : at(report, "tensors")) {
    const json& null = at(t, "null");
    rows += fmt::format(
        "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td "
        "class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
        "class=\"n\">{}</td><td>{}</td></tr>",
        e(str(t, "a")), layer_text(at(t, "layer")), e(str(t, "role")), layer_text(at(t, "expert")), e(shape_text(at(t, "shape"))),
        fixed(num(t, "cosine")), fixed(num(t, "pearson")), fixed(num(at(null, "pearson"), "q99")), fixed(num(null, "z"), 1),
        pval(num(t, "p_value")), fixed(num(t, "rel_l2")), fixed(num(t, "bitwise_equal_fraction"), 3), e(str(t, "pairing")));
  }
  return "<h2 id=\"tensors\">Every tensor pair</h2><p>Click a column to sort. p: the pair's own test against "
         "the draws of its unit's symmetry (the verdict combines the units); empty: not tested.</p><div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>tensor "
         "(A)</th><th class=\"n\">layer</th><th>role</th><th class=\"n\">expert</th><th>shape</th><th class=\"n\">raw "
         "cosine</th><th class=\"n\">Pearson</th><th class=\"n\">null 99th pct</th><th class=\"n\">z</th><th "
         "class=\"n\">p</th><th class=\"n\">rel. L2</th><th class=\"n\">bitwise equal</th><th>pairing</th></tr></thead>"
         "<tbody>" +
         rows + "</tbody></table></div>";
}

std::string unpaired_section(const json& report) {
  const json& unpaired = at(report, "unpaired");
  if (!unpaired.is_array() || unpaired.empty()) return "";
  std::string rows;
  std::size_t shown = 0;
  for (const auto& u : unpaired) {
    if (shown++ == max_unpaired_rows) break;
    rows += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", e(str(u, "side")), e(str(u, "name")),
                        e(str(u, "reason")));
  }
  std::string out = fmt::format("<h2 id=\"unpaired\">Tensors without a partner ({})</h2><div class=\"scroll\"><table "
                                "class=\"sortable\"><thead><tr><th>side</th><th>tensor</th><th>why</th></tr></thead><tbody>",
                                unpaired.size()) +
                    rows + "</tbody></table></div>";
  if (unpaired.size() > max_unpaired_rows)
    out += fmt::format("<p>The first {} are shown; all {} are in report.json and report.h5 (/unpaired).</p>",
                       max_unpaired_rows, unpaired.size());
  return out;
}

std::string manifest_section(const json& report) {
  const json& m = at(report, "manifest");
  std::string rows;
  for (const char* key : {"tool_version", "git_hash", "command_line", "start_time", "end_time", "host", "ranks", "kernel",
                          "block_elements"}) {
    const json& v = at(m, key);
    rows += fmt::format("<tr><th>{}</th><td>{}</td></tr>", key, e(v.is_string() ? v.get<std::string>() : v.dump()));
  }
  std::string rest;
  for (const auto& [key, value] : m.items())
    if (key != "config" && key != "rank_runs" && rows.find("<th>" + key + "</th>") == std::string::npos)
      rest += fmt::format("<h3>{}</h3><pre>{}</pre>", e(key), e(value.dump(2)));
  std::string ranks;
  for (const rank_run_row& row : rank_run_rows(m)) {
    ranks += "<tr>";
    for (std::size_t i = 0; i < std::size(row.cells); ++i)
      ranks += (i == 1 ? "<td>" : "<td class=\"n\">") + e(row.cells[i]) + "</td>";
    ranks += "</tr>";
  }
  if (!ranks.empty()) {
    std::string head;
    for (const char* heading : rank_run_headings) head += fmt::format("<th>{}</th>", heading);
    ranks = "<h3 id=\"rank-runs\">Time, bytes and memory per rank</h3><div class=\"scroll\"><table><thead><tr>" +
            head + "</tr></thead><tbody>" + ranks + "</tbody></table></div>";
  }
  return "<h2 id=\"manifest\">Manifest: how this report was made</h2><table><tbody>" + rows + "</tbody></table>" + ranks +
         "<details><summary>Configuration</summary><pre>" + e(at(m, "config").dump(2)) + "</pre></details>" +
         (rest.empty() ? "" : "<details><summary>More</summary>" + rest + "</details>");
}

}  // namespace lineage::legacy_html
