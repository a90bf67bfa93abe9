#pragma once
// report.html: the report people read. One self-contained page (inline CSS and SVG; a few lines
// of inline script sort the tables, and the page reads fully without it), readable on a laptop
// and printable. Both renderings read the typed report model; `pearson_null` holds, per tensor of
// report.tensors, its null's Pearson samples (report_document::pearson_null).
#include <string>
#include <vector>

#include "reduce/report_model.hpp"

namespace lineage {

std::string report_html(const comparison_report& report, const std::vector<std::vector<double>>& pearson_null);

// The page's style sheet and its table sorter, for other pages of the same look (search.html).
[[nodiscard]] const char* report_page_style() noexcept;
[[nodiscard]] const char* report_page_script() noexcept;

// report.md: a short Markdown summary (verdict, evidence, key tables) to paste into an issue.
std::string report_markdown(const comparison_report& report, const std::vector<std::vector<double>>& pearson_null);

}  // namespace lineage
