#pragma once
// The manifest of one model read back from a report.h5 (for `lineage verify`). The file is input:
// every table is checked (columns of one length, ranges inside their tensors and the range table,
// each tensor's digest the combination of its ranges' hashes) and a failure is one input_error
// naming the file and the object.
#include <cstdint>
#include <string>
#include <vector>

#include "h5/h5_reader.hpp"

namespace lineage {

struct recorded_tensor {
  std::string name, dtype, shape;  // dtype and shape as report.h5 spells them ("BF16", "[64, 64]")
  std::uint64_t bytes = 0;
  std::uint64_t first_range = 0, range_count = 0;
  std::uint64_t digest = 0;
};

struct recorded_range {
  std::uint64_t tensor = 0, offset = 0, length = 0, hash = 0;
};

struct recorded_file {
  std::string name;
  std::uint64_t size = 0;
  std::string sha256;  // "" when the job did not hash files
};

struct recorded_model {
  char side = 'a';
  std::string path;  // the model's path as the job was given it
  std::vector<recorded_tensor> tensors;
  std::vector<recorded_range> ranges;
  std::vector<recorded_file> files;
};

// Model `side` ('a' or 'b') of the report. Throws input_error when the report has no manifest
// digests or a table is malformed.
recorded_model read_recorded_model(const h5_reader& report, char side);

}  // namespace lineage
