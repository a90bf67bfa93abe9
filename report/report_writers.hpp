#pragma once
// The three renderings of a comparison_report.
#include <iosfwd>
#include <string>

#include "reduce/report_model.hpp"

namespace lineage {

// The HDF5 report as the bytes of a complete file (built in memory; layout: docs/HDF5_SCHEMA.md).
// `label` names it in error messages; `json_text` is report_json_text(report), kept in /report_json.
std::string report_h5_image(const comparison_report& report, const std::string& label, const std::string& json_text);

// The JSON report as text (schema: docs/HDF5_SCHEMA.md, section report.json).
std::string report_json_text(const comparison_report& report);

// The table rank 0 prints: one line per (layer, role) with raw cosine, Pearson, relative L2 and
// the share of bitwise-equal elements, then the unpaired tensors.
void print_terminal_table(const comparison_report& report, std::ostream& out);

}  // namespace lineage
