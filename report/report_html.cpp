#include "report/report_html.hpp"

#include <string>

#include "report/report_html_sections.hpp"

namespace lineage {
namespace {

using html::e;

constexpr const char* style = R"css(
:root { --ink: #1b1b1b; --muted: #5b5b5b; --line: #d7d7d7; --soft: #f5f5f3; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink);
       max-width: 1180px; margin: 0 auto; padding: 24px 28px 60px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 34px 0 8px; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; } h3 { font-size: 16px; margin: 18px 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; word-break: break-all; }
.banner { border-radius: 8px; padding: 16px 20px; margin: 16px 0 10px; border: 2px solid; }
.banner h2 { border: 0; margin: 0 0 6px; padding: 0; font-size: 22px; }
.banner.derived, .banner.identical { background: #fdecea; border-color: #b2182b; }
.banner.none { background: #eaf3fb; border-color: #2166ac; }
.banner.inconclusive { background: #fff7e0; border-color: #b8860b; }
.banner ul { margin: 8px 0 0 0; padding-left: 20px; } .banner li { margin: 3px 0; }
.meaning { font-weight: 600; }
.note { background: var(--soft); border-left: 4px solid #b8860b; padding: 6px 10px; margin: 6px 0; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 14px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 6px; background: #fff;
         break-inside: avoid; page-break-inside: avoid; }
figcaption { color: var(--muted); font-size: 13px; padding: 2px 6px 4px; }
svg.chart { width: 100%; height: auto; display: block; }
svg .chart-title { font-size: 13px; font-weight: 600; fill: var(--ink); }
svg .tick, svg .legend { font-size: 11px; fill: #333; } svg .axis { font-size: 12px; fill: #333; }
svg .plot { fill: #fbfbfb; stroke: #bbb; } svg .grid { stroke: #e4e4e4; }
svg .bar { fill: #8da9c4; } svg .dot { fill: #1f5fbf; fill-opacity: 0.7; }
svg .observed { stroke: #b2182b; fill: #b2182b; stroke-width: 2; } svg .observed-label { fill: #b2182b; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0 12px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: var(--soft); position: sticky; top: 0; cursor: pointer; user-select: none; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { max-height: 560px; overflow: auto; border: 1px solid var(--line); }
.sig { color: #b2182b; font-weight: 600; }
pre { background: var(--soft); padding: 8px; overflow: auto; font-size: 12px; white-space: pre-wrap; word-break: break-all; }
details > summary { cursor: pointer; color: var(--muted); }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  .scroll { max-height: none; overflow: visible; border: 0; }
  th { position: static; } h2 { break-after: avoid; } .figures { grid-template-columns: 1fr 1fr; }
  details { display: block; } details > summary { display: none; }
}
)css";

// Sorts a table by the clicked column (numbers as numbers); the page is complete without it.
constexpr const char* sorter = R"js(
window.addEventListener("error", function () {
  document.body.setAttribute("data-script-errors", String(Number(document.body.getAttribute("data-script-errors") || 0) + 1));
});
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.title = "sort by this column";
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var ascending = th.dataset.order !== "asc";
      th.dataset.order = ascending ? "asc" : "desc";
      var key = function (row) {
        var text = row.cells[column] ? row.cells[column].textContent : "";
        var value = parseFloat(text);
        return isNaN(value) ? text : value;
      };
      rows.sort(function (x, y) {
        var a = key(x), b = key(y);
        if (typeof a === typeof b) return (a < b ? -1 : a > b ? 1 : 0) * (ascending ? 1 : -1);
        return typeof a === "number" ? -1 : 1;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
document.body.setAttribute("data-sortable-tables", String(document.querySelectorAll("table.sortable").length));
)js";

}  // namespace

const char* report_page_style() noexcept { return style; }
const char* report_page_script() noexcept { return sorter; }

std::string report_html(const comparison_report& report, const std::vector<std::vector<double>>& pearson_null) {
  const std::string& a = report.model_a.path;
  const std::string& b = report.model_b.path;
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                     "<title>lineage: " +
                     e(a) + " vs " + e(b) + "</title><style>" + style + "</style></head><body>";
  page += "<h1>Were model B's weights derived from model A's?</h1><p class=\"sub\">A: " + e(a) + "<br>B: " + e(b) +
          "</p>";
  page += html::verdict_section(report.evidence.verdict);
  page += html::summary_section(report);
  page += html::layer_curves_section(report);
  page += html::heatmaps_section(report.cross_layers, report.depth);
  page += html::histograms_section(report.tensors, pearson_null);
  page += html::matching_section(report);
  page += html::tokenizer_section(read_tokenizer_overlap(report));
  page += html::panel_section(report.panel);
  page += html::families_section(report.evidence);
  page += html::units_section(report.units);
  page += html::tensors_section(report.tensors);
  page += html::unpaired_section(report.unpaired);
  page += html::manifest_section(report.manifest, report.content);
  page += std::string("<script>") + sorter + "</script></body></html>\n";
  return page;
}

}  // namespace lineage
