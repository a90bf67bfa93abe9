#pragma once
// The sections of report.html and what they share; report/report_html.cpp puts the page together.
// Each section reads the typed report model (reduce/report_model.hpp). A figure report.json writes
// only when its test was available, and any non-finite number, shows as "–".
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "reduce/report_model.hpp"
#include "report/tokenizer_overlap.hpp"

namespace lineage::html {

inline constexpr double nan = std::numeric_limits<double>::quiet_NaN();
inline constexpr const char* pearson_colour = "#1f5fbf";
inline constexpr const char* cosine_colour = "#d9730d";
inline constexpr const char* cross_colour = "#555555";
// Beyond these a section shows the first rows and says how many it left out (the data is in
// report.h5 and report.json in full).
inline constexpr std::size_t max_histograms = 16, max_heatmaps = 24, max_expert_layers = 8, max_unpaired_rows = 2000;

// Shared by the sections (report/report_html_support.cpp).
std::string e(const std::string& text);  // escaped for HTML
std::string shape_text(const std::vector<std::uint64_t>& shape);
// The colour range of a heatmap: symmetric about 0, at least ±0.05 so that noise stays pale.
double symmetric_extent(const std::vector<double>& values);
std::vector<std::string> names(const std::vector<std::int32_t>& indices);
// A row-major matrix of `columns` columns as a heatmap draws it: non-finite entries NaN, no rows
// when it has no columns.
struct matrix_view {
  std::vector<double> values;
  std::size_t rows = 0, cols = 0;
};
matrix_view matrix_of(const std::vector<double>& values, std::size_t columns);
// A figure that report.json writes only when `available`: NaN otherwise.
inline double when(bool available, double value) { return available ? value : nan; }

// The verdict and the tests behind it (report/report_html_verdict.cpp).
std::string verdict_section(const verdict_report& verdict);
std::string summary_section(const comparison_report& report);
std::string families_section(const evidence_summary& evidence);
std::string units_section(const std::vector<unit_figures>& units);

// Figures: curves over layers, heatmaps, null histograms (report/report_html_figures.cpp).
std::string layer_curves_section(const comparison_report& report);
std::string heatmaps_section(const std::vector<cross_layer_figures>& cross_layers, const depth_alignment& depth);
// `pearson_null`: per tensor of `tensors`, its null's Pearson samples.
std::string histograms_section(const std::vector<tensor_result>& tensors,
                               const std::vector<std::vector<double>>& pearson_null);

// Matchings, tokenizers and the reference panel (report/report_html_evidence.cpp).
std::string matching_section(const comparison_report& report);
std::string tokenizer_section(const tokenizer_overlap& tokenizers);
std::string panel_section(const panel_figures& panel);

// The long tables: tensors, unpaired tensors, the manifest (report/report_html_tables.cpp).
std::string tensors_section(const std::vector<tensor_result>& tensors);
std::string unpaired_section(const std::vector<unpaired_tensor>& unpaired);
std::string manifest_section(const run_manifest& manifest, const content_manifest& content);

}  // namespace lineage::html
