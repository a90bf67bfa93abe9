#pragma once
// TEMPORARY (removed before the port's final commit): the JSON-reading renderers, kept to compare
// their bytes with the typed ones.
#include <string>

#include "report/report_document.hpp"

namespace lineage {

std::string legacy_report_html(const report_document& document);
std::string legacy_report_markdown(const report_document& document);

}  // namespace lineage
