// Small helpers every section of report.html uses.
#include "report/report_html_sections.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "report/number_text.hpp"
#include "report/svg_chart.hpp"

namespace lineage::html {

std::string e(const std::string& text) { return svg::escape(text); }

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string s;
  for (const std::uint64_t d : shape) s += (s.empty() ? "" : " × ") + std::to_string(d);
  return s;
}

double symmetric_extent(const std::vector<double>& values) {
  double extent = 0.05;
  for (double v : values)
    if (std::isfinite(v)) extent = std::max(extent, std::fabs(v));
  return extent;
}

std::vector<std::string> names(const std::vector<std::int32_t>& indices) {
  std::vector<std::string> out;
  out.reserve(indices.size());
  for (const std::int32_t i : indices) out.push_back(std::to_string(i));
  return out;
}

matrix_view matrix_of(const std::vector<double>& values, std::size_t columns) {
  matrix_view out;
  if (columns == 0 || values.empty()) return out;
  out.cols = columns;
  out.rows = (values.size() + columns - 1) / columns;
  out.values.reserve(out.rows * columns);
  for (std::size_t k = 0; k < out.rows * columns; ++k)
    out.values.push_back(k < values.size() ? number_text::finite_or_nan(values[k]) : nan);
  return out;
}

}  // namespace lineage::html
