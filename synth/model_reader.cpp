#include "synth/model_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include "core/error.hpp"

namespace lineage::synth {

std::uint64_t stored_tensor::element_count() const noexcept {
  std::uint64_t count = 1;
  for (const auto extent : shape) count *= extent;
  return count;
}

namespace {

// Generated headers are a few tens of kB; a larger prefix means this is not a synth file.
constexpr std::uint64_t max_header_bytes = 64ull << 20;

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw input_error(fmt::format("{}: cannot open file", path.string()));
  try {
    return nlohmann::json::parse(stream);
  } catch (const nlohmann::json::exception& e) {
    throw input_error(fmt::format("{}: not valid JSON: {}", path.string(), e.what()));
  }
}

void read_file_header(const std::filesystem::path& path, std::vector<stored_tensor>& tensors) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw input_error(fmt::format("{}: cannot open file", path.string()));
  std::error_code ec;
  const std::uint64_t file_size = std::filesystem::file_size(path, ec);
  std::uint64_t header_length = 0;
  stream.read(reinterpret_cast<char*>(&header_length), sizeof header_length);
  if (!stream || header_length > max_header_bytes || 8 + header_length > file_size)
    throw input_error(fmt::format("{}: bad safetensors header length", path.string()));
  std::string text(header_length, '\0');
  stream.read(text.data(), static_cast<std::streamsize>(header_length));
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw input_error(
        fmt::format("{}: safetensors header is not valid JSON: {}", path.string(), e.what()));
  }
  const std::uint64_t data_start = 8 + header_length;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    try {
      stored_tensor tensor;
      tensor.name = name;
      const auto type = parse_dtype(entry.at("dtype").get<std::string>());
      if (!type)
        throw input_error(fmt::format("{}: tensor {}: unsupported dtype", path.string(), name));
      tensor.type = *type;
      tensor.shape = entry.at("shape").get<std::vector<std::uint64_t>>();
      const auto offsets = entry.at("data_offsets").get<std::vector<std::uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1] ||
          offsets[1] - offsets[0] != tensor.element_count() * dtype_size(tensor.type) ||
          data_start + offsets[1] > file_size)
        throw input_error(fmt::format(
            "{}: tensor {}: data_offsets do not fit its shape and the file", path.string(), name));
      tensor.file = path;
      tensor.file_offset = data_start + offsets[0];
      tensor.byte_length = offsets[1] - offsets[0];
      tensors.push_back(std::move(tensor));
    } catch (const nlohmann::json::exception& e) {
      throw input_error(
          fmt::format("{}: tensor {}: malformed entry: {}", path.string(), name, e.what()));
    }
  }
}

std::vector<std::filesystem::path> model_files(const std::filesystem::path& dir) {
  const auto index_path = dir / "model.safetensors.index.json";
  if (!std::filesystem::exists(index_path)) {
    if (!std::filesystem::exists(dir / "model.safetensors"))
      throw input_error(fmt::format(
          "{}: no model.safetensors or model.safetensors.index.json (not a model directory)",
          dir.string()));
    return {dir / "model.safetensors"};
  }
  const auto index = read_json_file(index_path);
  std::set<std::string> names;
  try {
    for (const auto& [tensor, file] : index.at("weight_map").items())
      names.insert(file.get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    throw input_error(fmt::format("{}: bad weight_map: {}", index_path.string(), e.what()));
  }
  std::vector<std::filesystem::path> files;
  for (const auto& name : names) files.push_back(dir / name);
  return files;
}

}  // namespace

stored_model read_stored_model(const std::filesystem::path& dir) {
  stored_model model;
  model.config = read_json_file(dir / "config.json");
  if (!model.config.is_object())
    throw input_error(fmt::format("{}: config.json is not a JSON object", dir.string()));
  if (std::ifstream tokenizer(dir / "tokenizer.json", std::ios::binary); tokenizer)
    model.tokenizer_json.assign(std::istreambuf_iterator<char>(tokenizer), std::istreambuf_iterator<char>());
  const auto files = model_files(dir);
  model.file_count = static_cast<std::uint32_t>(files.size());
  for (const auto& file : files) read_file_header(file, model.tensors);
  std::sort(model.tensors.begin(), model.tensors.end(),
            [](const stored_tensor& a, const stored_tensor& b) { return a.name < b.name; });
  const auto duplicate = std::adjacent_find(
      model.tensors.begin(), model.tensors.end(),
      [](const stored_tensor& a, const stored_tensor& b) { return a.name == b.name; });
  if (duplicate != model.tensors.end())
    throw input_error(
        fmt::format("{}: tensor {} appears in more than one file", dir.string(), duplicate->name));
  if (model.tensors.empty())
    throw input_error(fmt::format("{}: the model has no tensors", dir.string()));
  return model;
}

void read_tensor_bytes(const stored_tensor& tensor, std::span<std::byte> out) {
  if (out.size() != tensor.byte_length)
    throw internal_error("synth reader: buffer size differs from the tensor's byte length");
  std::ifstream stream(tensor.file, std::ios::binary);
  stream.seekg(static_cast<std::streamoff>(tensor.file_offset));
  stream.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
  if (!stream)
    throw input_error(fmt::format("{}: cannot read tensor {}", tensor.file.string(), tensor.name));
}

}  // namespace lineage::synth
