#pragma once
// The sections of report.html and what they share; report/report_html.cpp puts the page together.
// Each section reads report.json's document (report/legacy/document_fields.hpp): a missing field shows
// as "–".
#include <nlohmann/json.hpp>

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include "report/report_document.hpp"

namespace lineage::legacy_html {

using json = nlohmann::json;

inline constexpr double nan = std::numeric_limits<double>::quiet_NaN();
inline constexpr const char* pearson_colour = "#1f5fbf";
inline constexpr const char* cosine_colour = "#d9730d";
inline constexpr const char* cross_colour = "#555555";
// Beyond these a section shows the first rows and says how many it left out (the data is in
// report.h5 and report.json in full).
inline constexpr std::size_t max_histograms = 16, max_heatmaps = 24, max_expert_layers = 8, max_unpaired_rows = 2000;

// Shared by the sections (report/report_html_support.cpp).
std::string e(const std::string& text);  // escaped for HTML
std::string layer_text(const json& j);
std::string shape_text(const json& j);
// The colour range of a heatmap: symmetric about 0, at least ±0.05 so that noise stays pale.
double symmetric_extent(const std::vector<double>& values);
std::vector<std::string> names(const json& j);
std::vector<int> ints(const json& j);
// A matrix stored as a list of rows.
std::vector<double> flatten(const json& rows, std::size_t& r, std::size_t& c);

// The verdict and the tests behind it (report/report_html_verdict.cpp).
std::string verdict_section(const json& report);
std::string summary_section(const json& report);
std::string families_section(const json& report);
std::string units_section(const json& report);

// Figures: curves over layers, heatmaps, null histograms (report/report_html_figures.cpp).
std::string layer_curves_section(const json& report);
std::string heatmaps_section(const json& report);
std::string histograms_section(const report_document& document);

// Matchings, tokenizers and the reference panel (report/report_html_evidence.cpp).
std::string matching_section(const json& report);
std::string tokenizer_section(const json& report);
std::string panel_section(const json& report);

// The long tables: tensors, unpaired tensors, the manifest (report/report_html_tables.cpp).
std::string tensors_section(const json& report);
std::string unpaired_section(const json& report);
std::string manifest_section(const json& report);

}  // namespace lineage::legacy_html
