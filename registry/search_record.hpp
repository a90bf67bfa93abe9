#pragma once
// search.h5, the evaluation record of one search: what was searched (the query's files and their
// SHA-256, the checkpoint digest), against what (every member's fingerprint file SHA-256 and
// checkpoint digest), how (seed, draws, α, correction, tool version) and what came out (every
// member's figures and tests, and search.json's text). Sealed like report.h5
// (docs/HDF5_SCHEMA.md, "search.h5"). `lineage verify --search` checks a query model or a registry
// against it.
#include <filesystem>
#include <string>
#include <vector>

#include "registry/search.hpp"

namespace lineage {

// The sealed image of the record (`json_text`: search.json as written).
[[nodiscard]] std::string search_record_image(const search_result& result, const std::string& json_text,
                                              const std::string& label);

struct recorded_search {
  std::string query_name, query_checkpoint;
  std::vector<fingerprint_file_digest> query_files;
  std::vector<registry_entry> members;
};

// Throws input_error naming the file and object when it is not a sealed search record.
[[nodiscard]] recorded_search read_search_record(const std::filesystem::path& path);

// One line per difference between the record and the model's files (SHA-256 of each safetensors
// file): none when the model is the one searched.
[[nodiscard]] std::vector<std::string> query_differences(const recorded_search& record,
                                                         const std::filesystem::path& model);

// One line per member whose fingerprint file is missing from the registry, has another SHA-256, or
// is listed there and not in the record (added since the search).
[[nodiscard]] std::vector<std::string> registry_differences(const recorded_search& record,
                                                            const std::filesystem::path& registry);

}  // namespace lineage
