#pragma once
// The three renderings of a comparison_report.
#include <filesystem>
#include <iosfwd>
#include <string>

#include "reduce/report_model.hpp"

namespace lineage {

// Writes the HDF5 report to `path` (the caller provides a temporary name; see atomic_output).
// Layout: docs/HDF5_SCHEMA.md.
void write_report_h5(const comparison_report& report, const std::filesystem::path& path);

// The JSON report as text (schema: docs/HDF5_SCHEMA.md, section report.json).
std::string report_json_text(const comparison_report& report);

// The table rank 0 prints: one line per (layer, role) with raw cosine, Pearson, relative L2 and
// the share of bitwise-equal elements, then the unpaired tensors.
void print_terminal_table(const comparison_report& report, std::ostream& out);

}  // namespace lineage
