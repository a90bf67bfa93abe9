#pragma once
// Helpers for writing tables as groups of 1-D columns (report_h5*.cpp).
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "h5/h5_file.hpp"
#include "reduce/report_model.hpp"

namespace lineage {

// One column: `extract` applied to every row.
template <typename Row, typename Extract>
auto column(const std::vector<Row>& rows, Extract extract) {
  std::vector<std::decay_t<decltype(extract(rows.front()))>> values;
  values.reserve(rows.size());
  for (const auto& row : rows) values.push_back(extract(row));
  return values;
}

inline std::string shape_text(const std::vector<std::uint64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

// Written by report_h5_evidence.cpp.
void write_null_columns(const h5_group& group, const std::vector<tensor_result>& rows);
void write_null_samples(const h5_group& root, const comparison_report& report);
void write_evidence(const h5_group& root, const comparison_report& report);

// Written by report_h5_structure.cpp.
void write_layer_structure(const h5_group& root, const comparison_report& report);
void write_expert_matching(const h5_group& root, const comparison_report& report);
void write_reference_panel(const h5_group& root, const comparison_report& report);
void write_neuron_matching(const h5_group& root, const comparison_report& report);
void write_hidden_matching(const h5_group& root, const comparison_report& report);
void write_fingerprints(const h5_group& root, const comparison_report& report);
void write_head_matching(const h5_group& root, const comparison_report& report);

// Written by report_h5_content.cpp: one model's tensor, range and file tables under `model`.
void write_content(const h5_group& model, const content_manifest& content, const side_content& side);

}  // namespace lineage
