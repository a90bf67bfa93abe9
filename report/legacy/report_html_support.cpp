// Small helpers every section of report.html uses.
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

std::string e(const std::string& text) { return svg::escape(text); }
std::string layer_text(const json& j) { return integer_text(j); }
std::string shape_text(const json& j) {
  if (!j.is_array()) return "–";
  std::string s;
  for (const auto& d : j) s += (s.empty() ? "" : " × ") + (d.is_number() ? std::to_string(d.get<long long>()) : "?");
  return s;
}
double symmetric_extent(const std::vector<double>& values) {
  double extent = 0.05;
  for (double v : values)
    if (std::isfinite(v)) extent = std::max(extent, std::fabs(v));
  return extent;
}
std::vector<std::string> names(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j) out.push_back(v.is_number_integer() ? std::to_string(v.get<long long>()) : std::string("?"));
  return out;
}
std::vector<int> ints(const json& j) {
  std::vector<int> out;
  if (j.is_array())
    for (const auto& v : j) out.push_back(v.is_number_integer() ? v.get<int>() : -1);
  return out;
}
std::vector<double> flatten(const json& rows, std::size_t& r, std::size_t& c) {
  std::vector<double> out;
  r = rows.is_array() ? rows.size() : 0;
  c = r > 0 && rows[0].is_array() ? rows[0].size() : 0;
  for (std::size_t i = 0; i < r; ++i)
    for (std::size_t k = 0; k < c; ++k) out.push_back(rows[i].is_array() && k < rows[i].size() ? num(rows[i][k]) : nan);
  return out;
}

}  // namespace lineage::legacy_html
