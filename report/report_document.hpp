#pragma once
// What the human-readable renderings (report.html, report.md) are made from: the typed report
// model read back from report.json's document, which report.h5 holds verbatim in /report_json,
// and the null samples of /nulls. Both the compare job and `lineage report` read them from
// report.h5, so a report rendered again from the HDF5 file alone is the same bytes as the one the
// job wrote.
#include <filesystem>
#include <vector>

#include "reduce/report_model.hpp"

namespace lineage {

struct report_document {
  // The typed model read back from the document (report/report_json_read.hpp lists the fields
  // report.json does not carry); re-serialised, it is the stored text byte for byte.
  comparison_report model;
  std::vector<std::vector<double>> pearson_null;  // per entry of model.tensors: its null's Pearson samples
};

// Reads and checks /report_json and /nulls of a report.h5. The file is input: a missing object, a
// document that is not a lineage report (a wrong or missing key, or one this version of lineage
// would not write: its model does not re-serialise to the same bytes) or null offsets that do not
// fit are an input_error naming the file and the object.
report_document read_report_document(const std::filesystem::path& report_h5);

}  // namespace lineage
