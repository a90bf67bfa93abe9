#pragma once
// A model checkpoint as lineage sees it: the safetensors files, every tensor with its absolute
// location, and config.json when there is one.
//
// Accepted forms of `path`:
//  - a .safetensors file (config.json beside it is read if present);
//  - a directory with model.safetensors.index.json: weight_map names every tensor's file; each
//    named file must exist inside the directory (no absolute paths, no ".."), each tensor must be in
//    the file the index names, and every tensor in those files must be in the index;
//  - a directory with model.safetensors;
//  - a directory with other *.safetensors files and no index: all of them, tensor names unique
//    across files; files named like model-00001-of-00003.safetensors must form a complete set.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dtype.hpp"

namespace lineage {

struct checkpoint_file {
  std::filesystem::path path;
  std::uint64_t size = 0;
};

struct checkpoint_tensor {
  std::string name;
  dtype type = dtype::f32;
  std::vector<std::uint64_t> shape;
  std::uint32_t file_index = 0;    // into checkpoint::files
  std::uint64_t byte_offset = 0;   // absolute offset in the file
  std::uint64_t element_count = 0;
  [[nodiscard]] std::uint64_t byte_length() const noexcept { return element_count * dtype_size(type); }
};

struct checkpoint {
  std::filesystem::path root;                 // the path as given
  std::vector<checkpoint_file> files;         // sorted by path
  std::vector<checkpoint_tensor> tensors;     // sorted by name
  std::optional<std::filesystem::path> config_path;
  nlohmann::json config = nlohmann::json::object();  // config.json, or {} when absent
  std::string model_type;                     // config["model_type"], or "" when absent
};

// Throws input_error naming the file, tensor or key: missing path, no safetensors files, broken
// config.json (invalid JSON, not an object, model_type not a string), broken index (invalid JSON,
// no weight_map object, non-string file names, unsafe paths, missing files), header errors
// (see read_safetensors_header), tensors missing from or not listed in the index, duplicate names.
checkpoint open_checkpoint(const std::filesystem::path& path);

// For planning only (`lineage plan`): the safetensors files may hold just their headers (the 8-byte
// length and the JSON, the data section cut off). Everything open_checkpoint checks is checked,
// except that tensors' data_offsets may run past the end of the file; each checkpoint_file::size is
// then the size the complete file would have (header plus the end of the last tensor). Such a
// checkpoint must never be read.
struct checkpoint_open_options {
  bool allow_header_only = false;
};
checkpoint open_checkpoint(const std::filesystem::path& path, const checkpoint_open_options& options);

}  // namespace lineage
