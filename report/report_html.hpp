#pragma once
// report.html: the report people read. One self-contained page (inline CSS and SVG; a few lines
// of inline script sort the tables, and the page reads fully without it), readable on a laptop
// and printable.
#include <string>

#include "report/report_document.hpp"

namespace lineage {

std::string report_html(const report_document& document);

// report.md: a short Markdown summary (verdict, evidence, key tables) to paste into an issue.
std::string report_markdown(const report_document& document);

}  // namespace lineage
