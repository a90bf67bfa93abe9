#include "checkpoint/checkpoint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "checkpoint/mapped_file.hpp"
#include "checkpoint/safetensors_header.hpp"
#include "core/error.hpp"

namespace lineage {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::string_view index_file_name = "model.safetensors.index.json";
constexpr std::string_view single_file_name = "model.safetensors";
constexpr std::string_view config_file_name = "config.json";
constexpr std::string_view safetensors_extension = ".safetensors";
// config.json and index files are small; a bigger one is not what it claims to be. An index of
// 100k tensors is about 10 MB.
constexpr std::uint64_t max_json_file_bytes = 100'000'000;

// True when something (even a dangling link or a directory) sits at `path`: such a thing is then
// read and rejected with a reason, rather than silently ignored.
bool something_at(const fs::path& path) {
  std::error_code ignored;
  return fs::symlink_status(path, ignored).type() != fs::file_type::not_found;
}

json read_json_file(const fs::path& path, const duplicate_key_wording& wording = {}) {
  const read_only_file file(path);
  if (file.size() > max_json_file_bytes) {
    throw input_error(fmt::format("{}: {} bytes, more than the {} bytes a JSON file may have",
                                  path.string(), file.size(), max_json_file_bytes));
  }
  std::string text(static_cast<std::size_t>(file.size()), '\0');
  file.read_exact(0, std::as_writable_bytes(std::span<char>(text)));
  return parse_json_strictly(text, path.string(), wording);
}

void read_config(const fs::path& config_path, checkpoint& result) {
  if (!something_at(config_path)) return;  // config.json is optional
  json config = read_json_file(config_path);
  if (!config.is_object()) {
    throw input_error(
        fmt::format("{}: config is {}, not an object", config_path.string(), json_kind(config)));
  }
  if (const auto found = config.find("model_type"); found != config.end()) {
    if (!found->is_string()) {
      throw input_error(fmt::format("{}: model_type is {}, not a string", config_path.string(),
                                    json_kind(*found)));
    }
    result.model_type = found->get<std::string>();
  }
  result.config = std::move(config);
  result.config_path = config_path;
}

// --- files of a directory without an index -------------------------------------------------------

// "model-00002-of-00003.safetensors" -> {"model", 2, 3, "00003"}.
struct shard_name {
  std::string prefix;
  std::uint32_t number = 0;
  std::uint32_t total = 0;
  std::string total_text;  // as written, for messages
};

std::optional<std::uint32_t> parse_shard_count(std::string_view digits) {
  // Nine digits always fit; longer runs are not shard numbers any writer produces.
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::uint32_t value = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

std::optional<shard_name> parse_shard_name(std::string_view filename) {
  if (!filename.ends_with(safetensors_extension)) return std::nullopt;
  const std::string_view stem = filename.substr(0, filename.size() - safetensors_extension.size());
  const auto of = stem.rfind("-of-");
  if (of == std::string_view::npos) return std::nullopt;
  const std::string_view before = stem.substr(0, of);
  const auto dash = before.rfind('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto number = parse_shard_count(before.substr(dash + 1));
  const auto total = parse_shard_count(stem.substr(of + 4));
  if (!number || !total) return std::nullopt;
  return shard_name{std::string(before.substr(0, dash)), *number, *total,
                    std::string(stem.substr(of + 4))};
}

// Without an index, a missing shard would silently drop tensors: the numbered names are the only
// evidence of what the set should hold.
void require_complete_shard_sets(const std::vector<fs::path>& files, const fs::path& directory) {
  struct shard_set {
    shard_name first;
    std::set<std::uint32_t> numbers;
  };
  std::map<std::string, shard_set> sets;  // by prefix
  for (const auto& file : files) {
    const auto name = parse_shard_name(file.filename().string());
    if (!name) continue;
    if (name->number == 0 || name->number > name->total) {
      throw input_error(fmt::format("{}: shard number {} is outside 1..{}", file.string(),
                                    name->number, name->total));
    }
    auto [found, inserted] = sets.try_emplace(name->prefix, shard_set{*name, {}});
    shard_set& set = found->second;
    if (set.first.total != name->total) {
      throw input_error(fmt::format("{}: shards of '{}' disagree on their count ({} and {})",
                                    directory.string(), name->prefix, set.first.total_text,
                                    name->total_text));
    }
    if (!set.numbers.insert(name->number).second) {
      throw input_error(fmt::format("{}: shard {} of '{}' appears under two names", file.string(),
                                    name->number, name->prefix));
    }
  }
  for (const auto& [prefix, set] : sets) {
    if (set.numbers.size() == set.first.total) continue;
    std::uint32_t missing = 1;
    while (set.numbers.contains(missing)) ++missing;
    throw input_error(
        fmt::format("{}: shard set '{}-*-of-{}{}' is incomplete: shard {} of {} is missing (and "
                    "there is no {})",
                    directory.string(), prefix, set.first.total_text, safetensors_extension,
                    missing, set.first.total, index_file_name));
  }
}

std::vector<fs::path> list_safetensors_files(const fs::path& directory) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& candidate = it->path();
    std::error_code type_ec;
    if (candidate.filename().string().ends_with(safetensors_extension) &&
        fs::is_regular_file(candidate, type_ec)) {  // follows links, as in a Hugging Face cache
      files.push_back(candidate);
    }
  }
  if (ec) {
    throw input_error(
        fmt::format("{}: cannot list the directory: {}", directory.string(), ec.message()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

// --- the index -----------------------------------------------------------------------------------

struct index_contents {
  fs::path path;
  std::map<std::string, fs::path> file_of_tensor;  // as directory / name, lexically normal
  std::vector<fs::path> files;                     // sorted, unique
};

std::string describe_duplicate_in_index(const std::vector<std::string>& path,
                                        const std::string& key) {
  if (path.size() == 1 && path.front() == "weight_map") {
    return fmt::format("weight_map lists tensor '{}' twice", key);
  }
  return path.empty() ? fmt::format("duplicate key '{}'", key)
                      : fmt::format("duplicate key '{}' in '{}'", key, path.back());
}

// An index is untrusted like a header: it may only name files inside its own directory.
fs::path checked_shard_path(const std::string& name, const std::string& tensor,
                            const fs::path& index_path) {
  const auto fail = [&](std::string_view why) {
    throw input_error(
        fmt::format("{}: tensor '{}': file name '{}' {}", index_path.string(), tensor, name, why));
  };
  if (name.empty()) fail("is empty");
  if (name.find('\0') != std::string::npos) fail("contains a NUL byte");
  const fs::path relative(name);
  if (relative.has_root_path()) fail("is absolute; the index may only name files beside it");
  for (const auto& component : relative) {
    if (component == "..") fail("contains '..'; the index may only name files beside it");
  }
  // A directory component could be a symlink out of the model directory (root -> /): a name is a
  // file name, as every Hugging Face index writes it. The file itself may be a symlink (the Hub's
  // cache links each snapshot file to a blob), and is opened as a regular file or refused.
  const fs::path normal = relative.lexically_normal();
  if (std::distance(normal.begin(), normal.end()) != 1 || normal == ".")
    fail("has a directory part; the index may only name files beside it");
  return (index_path.parent_path() / relative).lexically_normal();
}

index_contents read_index(const fs::path& index_path) {
  const json document = read_json_file(index_path, describe_duplicate_in_index);
  const std::string label = index_path.string();
  if (!document.is_object()) {
    throw input_error(fmt::format("{}: index is {}, not an object", label, json_kind(document)));
  }
  if (const auto metadata = document.find("metadata");
      metadata != document.end() && !metadata->is_object()) {
    throw input_error(
        fmt::format("{}: metadata is {}, not an object", label, json_kind(*metadata)));
  }
  const auto weight_map = document.find("weight_map");
  if (weight_map == document.end()) throw input_error(fmt::format("{}: no weight_map", label));
  if (!weight_map->is_object()) {
    throw input_error(
        fmt::format("{}: weight_map is {}, not an object", label, json_kind(*weight_map)));
  }
  if (weight_map->empty()) throw input_error(fmt::format("{}: weight_map is empty", label));

  index_contents index;
  index.path = index_path;
  std::set<fs::path> files;
  for (const auto& [tensor, file_name] : weight_map->items()) {
    if (!file_name.is_string()) {
      throw input_error(fmt::format("{}: tensor '{}': file name is {}, not a string", label, tensor,
                                    json_kind(file_name)));
    }
    const auto& name = file_name.get_ref<const std::string&>();
    fs::path shard = checked_shard_path(name, tensor, index_path);
    if (!files.contains(shard)) {
      if (!something_at(shard)) {
        throw input_error(fmt::format("{}: tensor '{}': file '{}' does not exist ({})", label,
                                      tensor, name, shard.string()));
      }
      files.insert(shard);
    }
    index.file_of_tensor.emplace(tensor, std::move(shard));
  }
  index.files.assign(files.begin(), files.end());
  return index;
}

// --- assembling the checkpoint -----------------------------------------------------------------

void add_files(const std::vector<fs::path>& paths, const index_contents* index,
               checkpoint& result, bool header_only) {
  if (paths.size() > std::numeric_limits<std::uint32_t>::max()) {
    throw input_error(fmt::format("{}: too many files", result.root.string()));
  }
  std::unordered_map<std::string, std::uint32_t> file_of_name;
  for (const auto& path : paths) {
    const auto file_index = static_cast<std::uint32_t>(result.files.size());
    const safetensors_header header =
        header_only ? read_safetensors_header_only(path) : read_safetensors_header(path);
    result.files.push_back({path, header.file_size});
    for (const auto& entry : header.tensors) {
      if (index != nullptr) {
        const auto listed = index->file_of_tensor.find(entry.name);
        if (listed == index->file_of_tensor.end()) {
          throw input_error(fmt::format("{}: tensor '{}' is not listed in {}", path.string(),
                                        entry.name, index->path.string()));
        }
        if (listed->second != path) {
          throw input_error(fmt::format("{}: tensor '{}' is in this file, but {} places it in {}",
                                        path.string(), entry.name, index->path.string(),
                                        listed->second.string()));
        }
      }
      const auto [seen, inserted] = file_of_name.try_emplace(entry.name, file_index);
      if (!inserted) {
        throw input_error(fmt::format("{}: tensor '{}' is also in {}", path.string(), entry.name,
                                      result.files[seen->second].path.string()));
      }
      result.tensors.push_back({.name = entry.name,
                                .type = entry.type,
                                .shape = entry.shape,
                                .file_index = file_index,
                                .byte_offset = header.data_section_offset() + entry.data_begin,
                                .element_count = entry.element_count()});
    }
  }
  if (index != nullptr) {
    for (const auto& [tensor, path] : index->file_of_tensor) {
      if (!file_of_name.contains(tensor)) {
        throw input_error(fmt::format("{}: tensor '{}' is not in this file, but {} places it here",
                                      path.string(), tensor, index->path.string()));
      }
    }
  }
  std::sort(result.tensors.begin(), result.tensors.end(),
            [](const checkpoint_tensor& a, const checkpoint_tensor& b) { return a.name < b.name; });
}

void open_directory(const fs::path& directory, checkpoint& result, bool header_only) {
  if (const fs::path index_path = directory / index_file_name; something_at(index_path)) {
    const index_contents index = read_index(index_path);
    add_files(index.files, &index, result, header_only);
  } else if (const fs::path single = directory / single_file_name; something_at(single)) {
    // As the Hugging Face loader does: model.safetensors is the checkpoint, other files are not.
    add_files({single}, nullptr, result, header_only);
  } else {
    const auto files = list_safetensors_files(directory);
    if (files.empty()) {
      throw input_error(fmt::format("{}: no {} files (and no {})", directory.string(),
                                    safetensors_extension, index_file_name));
    }
    require_complete_shard_sets(files, directory);
    add_files(files, nullptr, result, header_only);
  }
  read_config(directory / config_file_name, result);
}

}  // namespace

checkpoint open_checkpoint(const std::filesystem::path& path) { return open_checkpoint(path, {}); }

checkpoint open_checkpoint(const std::filesystem::path& path, const checkpoint_open_options& options) {
  const bool header_only = options.allow_header_only;
  checkpoint result;
  result.root = path;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    throw input_error(fmt::format("{}: no such file or directory", path.string()));
  }
  if (ec) throw input_error(fmt::format("{}: {}", path.string(), ec.message()));
  if (status.type() == fs::file_type::directory) {
    open_directory(path, result, header_only);
  } else if (status.type() == fs::file_type::regular) {
    if (!path.filename().string().ends_with(safetensors_extension)) {
      throw input_error(
          fmt::format("{}: not a {} file (pass a .safetensors file or a checkpoint directory)",
                      path.string(), safetensors_extension));
    }
    add_files({path}, nullptr, result, header_only);
    read_config(path.parent_path() / config_file_name, result);
  } else {
    throw input_error(fmt::format("{}: neither a regular file nor a directory", path.string()));
  }
  return result;
}

}  // namespace lineage
