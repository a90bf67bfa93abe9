#include "checkpoint/shape_list.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <set>
#include <span>
#include <string>
#include <system_error>

#include "checkpoint/mapped_file.hpp"
#include "checkpoint/safetensors_header.hpp"
#include "core/error.hpp"

namespace lineage {
namespace {

using json = nlohmann::json;
constexpr std::uint64_t max_shape_list_bytes = 100'000'000;
// Where the virtual file's data section starts (any value works: nothing is ever read).
constexpr std::uint64_t virtual_header_bytes = 8;

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& where, const std::string& what) {
  throw input_error(fmt::format("{}: {}: {}", path.string(), where, what));
}

std::string describe_duplicate(const std::vector<std::string>& object_path, const std::string& key) {
  std::string where;
  for (const auto& part : object_path) where += (where.empty() ? "" : " > ") + part;
  return where.empty() ? fmt::format("duplicate key '{}'", key) : fmt::format("{}: duplicate key '{}'", where, key);
}

checkpoint_tensor read_tensor(const std::filesystem::path& path, const json& entry, std::size_t index) {
  const std::string where = fmt::format("tensors[{}]", index);
  if (!entry.is_object()) fail(path, where, fmt::format("is {}, not an object", json_kind(entry)));
  for (const auto& [key, value] : entry.items()) {
    if (key != "name" && key != "dtype" && key != "shape")
      fail(path, where, fmt::format("unknown key '{}' (allowed: name, dtype, shape)", key));
  }
  for (const char* key : {"name", "dtype", "shape"})
    if (!entry.contains(key)) fail(path, where, fmt::format("no '{}'", key));
  const json& name = entry.at("name");
  if (!name.is_string()) fail(path, where, fmt::format("'name' is {}, not a string", json_kind(name)));
  checkpoint_tensor tensor;
  tensor.name = name.get<std::string>();
  if (tensor.name.empty()) fail(path, where, "'name' is empty");
  const std::string named = fmt::format("{} ('{}')", where, tensor.name);
  const json& type = entry.at("dtype");
  if (!type.is_string()) fail(path, named, fmt::format("'dtype' is {}, not a string", json_kind(type)));
  const auto parsed = parse_dtype(type.get<std::string>());
  if (!parsed) fail(path, named, fmt::format("'dtype' '{}' is not one lineage reads", type.get<std::string>()));
  tensor.type = *parsed;
  const json& shape = entry.at("shape");
  if (!shape.is_array()) fail(path, named, fmt::format("'shape' is {}, not an array", json_kind(shape)));
  std::uint64_t elements = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    const json& extent = shape[d];
    if (!extent.is_number_unsigned())
      fail(path, named, fmt::format("'shape'[{}] is {}, not a non-negative integer", d,
                                    extent.is_number_integer() ? "negative" : json_kind(extent)));
    const auto value = extent.get<std::uint64_t>();
    if (value != 0 && elements > std::numeric_limits<std::uint64_t>::max() / dtype_size(tensor.type) / value)
      fail(path, named, "'shape': the byte count overflows 64 bits");
    elements *= value;
    tensor.shape.push_back(value);
  }
  tensor.element_count = elements;
  return tensor;
}

}  // namespace

bool is_shape_list_path(const std::filesystem::path& path) {
  std::error_code ec;
  return path.extension() == ".json" && std::filesystem::is_regular_file(path, ec);
}

checkpoint read_shape_list(const std::filesystem::path& path) {
  const read_only_file file(path);
  if (file.size() > max_shape_list_bytes)
    throw input_error(fmt::format("{}: {} bytes, more than the {} bytes a shape list may have", path.string(),
                                  file.size(), max_shape_list_bytes));
  std::string text(static_cast<std::size_t>(file.size()), '\0');
  file.read_exact(0, std::as_writable_bytes(std::span<char>(text)));
  const json document = parse_json_strictly(text, path.string(), describe_duplicate);
  if (!document.is_object())
    throw input_error(fmt::format("{}: shape list is {}, not an object", path.string(), json_kind(document)));
  for (const auto& [key, value] : document.items()) {
    if (key != "model_type" && key != "config" && key != "tensors" && key != "source")
      fail(path, "top level", fmt::format("unknown key '{}' (allowed: model_type, config, source, tensors)", key));
  }

  checkpoint result;
  result.root = path;
  const auto model_type = document.find("model_type");
  if (model_type == document.end()) fail(path, "top level", "no 'model_type'");
  if (!model_type->is_string())
    fail(path, "model_type", fmt::format("is {}, not a string", json_kind(*model_type)));
  result.model_type = model_type->get<std::string>();
  if (const auto source = document.find("source"); source != document.end() && !source->is_string())
    fail(path, "source", fmt::format("is {}, not a string", json_kind(*source)));
  if (const auto config = document.find("config"); config != document.end()) {
    if (!config->is_object()) fail(path, "config", fmt::format("is {}, not an object", json_kind(*config)));
    if (const auto inner = config->find("model_type"); inner != config->end() && *inner != *model_type)
      fail(path, "config > model_type", fmt::format("is {}, but model_type is '{}'", inner->dump(), result.model_type));
    result.config = *config;
  }
  result.config["model_type"] = result.model_type;

  const auto tensors = document.find("tensors");
  if (tensors == document.end()) fail(path, "top level", "no 'tensors'");
  if (!tensors->is_array()) fail(path, "tensors", fmt::format("is {}, not an array", json_kind(*tensors)));
  if (tensors->empty()) fail(path, "tensors", "is empty");
  std::set<std::string> names;
  for (std::size_t i = 0; i < tensors->size(); ++i) {
    checkpoint_tensor tensor = read_tensor(path, (*tensors)[i], i);
    if (!names.insert(tensor.name).second)
      fail(path, fmt::format("tensors[{}]", i), fmt::format("tensor '{}' is listed twice", tensor.name));
    result.tensors.push_back(std::move(tensor));
  }
  std::sort(result.tensors.begin(), result.tensors.end(),
            [](const checkpoint_tensor& a, const checkpoint_tensor& b) { return a.name < b.name; });
  std::uint64_t offset = virtual_header_bytes;
  for (auto& tensor : result.tensors) {
    tensor.file_index = 0;
    tensor.byte_offset = offset;
    if (tensor.byte_length() > std::numeric_limits<std::uint64_t>::max() - offset)
      fail(path, "tensors", "the total byte count overflows 64 bits");
    offset += tensor.byte_length();
  }
  result.files.push_back({path, offset});  // a virtual file: the shape list stands in for it
  return result;
}

}  // namespace lineage
