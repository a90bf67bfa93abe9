#include "synth/safetensors_writer.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>

#include "core/atomic_output.hpp"
#include "core/error.hpp"

namespace lineage::synth {

std::uint64_t output_tensor::element_count() const noexcept {
  std::uint64_t count = 1;
  for (const auto extent : shape) count *= extent;
  return count;
}

std::uint64_t output_tensor::byte_length() const noexcept {
  return element_count() * dtype_size(type);
}

std::string shard_file_name(std::uint32_t index, std::uint32_t count) {
  if (count == 1) return "model.safetensors";
  return fmt::format("model-{:05}-of-{:05}.safetensors", index + 1, count);
}

std::vector<std::size_t> balance_shards(std::span<const std::uint64_t> byte_lengths,
                                        std::uint32_t shards) {
  const std::size_t tensor_count = byte_lengths.size();
  if (shards == 0 || shards > tensor_count)
    throw usage_error(fmt::format("synth: --shards {} must be between 1 and the tensor count {}",
                                  shards, tensor_count));
  std::uint64_t total = 0;
  for (const auto bytes : byte_lengths) total += bytes;
  // Shard k closes once the bytes written so far pass its share k/shards of the total, judged at
  // the middle of the next tensor; every shard keeps at least one tensor and leaves one for each
  // shard after it.
  std::vector<std::size_t> bounds{0};
  std::size_t next = 0;
  long double written = 0;
  for (std::uint32_t shard = 0; shard + 1 < shards; ++shard) {
    const long double share = static_cast<long double>(total) * (shard + 1) / shards;
    const std::size_t last_allowed = tensor_count - (shards - 1 - shard);
    do {
      written += static_cast<long double>(byte_lengths[next]);
      ++next;
    } while (next < last_allowed &&
             written + static_cast<long double>(byte_lengths[next]) / 2 <= share);
    bounds.push_back(next);
  }
  bounds.push_back(tensor_count);
  return bounds;
}

std::string safetensors_header_text(std::span<const output_tensor> tensors) {
  nlohmann::json header = nlohmann::json::object();
  header["__metadata__"] = {{"format", "pt"}};
  std::uint64_t offset = 0;
  for (const auto& tensor : tensors) {
    const std::uint64_t end = offset + tensor.byte_length();
    header[tensor.name] = {{"dtype", std::string(dtype_name(tensor.type))},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  return text;
}

namespace {

bool is_model_file_name(const std::string& name) {
  static const std::regex shard_pattern(R"(model-\d{5}-of-\d{5}\.safetensors)");
  return name == "model.safetensors" || name == "model.safetensors.index.json" ||
         name == "config.json" || name == "tokenizer.json" || std::regex_match(name, shard_pattern);
}

void remove_stale_model_files(const std::filesystem::path& dir, const std::set<std::string>& kept) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!is_model_file_name(name) || kept.contains(name)) continue;
    std::filesystem::remove(entry.path(), ec);
    if (ec)
      throw input_error(fmt::format("{}: cannot remove the earlier model file: {}",
                                    entry.path().string(), ec.message()));
  }
  if (ec)
    throw input_error(fmt::format("{}: cannot list the directory: {}", dir.string(), ec.message()));
}

void write_shard_file(const std::filesystem::path& path, std::span<const output_tensor> tensors,
                      std::size_t first_index, const tensor_filler& fill) {
  atomic_output output(path);
  {
    std::ofstream stream(output.temporary_path(), std::ios::binary | std::ios::trunc);
    if (!stream)
      throw input_error(fmt::format("{}: cannot create file: {}", output.temporary_path().string(),
                                    std::strerror(errno)));
    const std::string header = safetensors_header_text(tensors);
    const std::uint64_t header_length = header.size();
    stream.write(reinterpret_cast<const char*>(&header_length), sizeof header_length);
    stream.write(header.data(), static_cast<std::streamsize>(header.size()));
    std::vector<std::byte> bytes;
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      bytes.assign(tensors[i].byte_length(), std::byte{0});
      fill(first_index + i, bytes);
      stream.write(reinterpret_cast<const char*>(bytes.data()),
                   static_cast<std::streamsize>(bytes.size()));
    }
    stream.flush();
    if (!stream)
      throw input_error(fmt::format("{}: write failed", output.temporary_path().string()));
  }
  output.commit();
}

}  // namespace

written_model write_model_directory(const std::filesystem::path& dir, const nlohmann::json& config,
                                    const std::vector<output_tensor>& tensors, std::uint32_t shards,
                                    const tensor_filler& fill, std::string_view tokenizer_json) {
  std::vector<std::uint64_t> byte_lengths;
  written_model summary;
  for (const auto& tensor : tensors) {
    byte_lengths.push_back(tensor.byte_length());
    summary.parameter_count += tensor.element_count();
    summary.data_bytes += tensor.byte_length();
  }
  summary.tensor_count = tensors.size();
  summary.file_count = shards;
  const auto bounds = balance_shards(byte_lengths, shards);

  ensure_writable_directory(dir);
  std::set<std::string> kept;
  for (std::uint32_t shard = 0; shard < shards; ++shard)
    kept.insert(shard_file_name(shard, shards));
  if (shards > 1) kept.insert("model.safetensors.index.json");
  if (!tokenizer_json.empty()) kept.insert("tokenizer.json");
  // config.json goes too: until the new one is written last, the directory is visibly incomplete.
  remove_stale_model_files(dir, kept);

  nlohmann::json weight_map = nlohmann::json::object();
  for (std::uint32_t shard = 0; shard < shards; ++shard) {
    const std::string file_name = shard_file_name(shard, shards);
    const std::span<const output_tensor> members(tensors.data() + bounds[shard],
                                                 bounds[shard + 1] - bounds[shard]);
    write_shard_file(dir / file_name, members, bounds[shard], fill);
    for (const auto& tensor : members) weight_map[tensor.name] = file_name;
  }
  if (shards > 1) {
    const nlohmann::json index = {{"metadata", {{"total_size", summary.data_bytes}}},
                                  {"weight_map", weight_map}};
    write_file_atomically(dir / "model.safetensors.index.json", index.dump(2) + "\n");
  }
  if (!tokenizer_json.empty()) write_file_atomically(dir / "tokenizer.json", tokenizer_json);
  write_file_atomically(dir / "config.json", config.dump(2) + "\n");
  return summary;
}

}  // namespace lineage::synth
