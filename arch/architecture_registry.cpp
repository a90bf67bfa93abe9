// Loading the architecture rule files: the copies compiled into the binary, or a directory given
// on the command line (--arch-dir) to try new rules without rebuilding.
#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "arch/architecture_map.hpp"
#include "arch/architecture_rules.hpp"
#include "core/error.hpp"

namespace lineage {

// Generated at build time from configs/architectures/*.yaml (cmake/EmbedFiles.cmake).
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_architecture_files();

namespace {

struct rule_file {
  std::string name;  // as shown in error messages
  std::string text;
};

std::vector<rule_file> read_rule_directory(const std::filesystem::path& directory) {
  std::error_code status;
  if (!std::filesystem::is_directory(directory, status)) {
    throw input_error(fmt::format("architecture rules directory {}: not a directory", directory.string()));
  }
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(directory, status)) {
    if (entry.path().extension() == ".yaml" && !entry.is_directory()) {
      paths.push_back(entry.path());
    }
  }
  if (status) {
    throw input_error(fmt::format("architecture rules directory {}: {}", directory.string(), status.message()));
  }
  if (paths.empty()) {
    // An empty override would silently turn every checkpoint into generic name pairing.
    throw input_error(fmt::format("architecture rules directory {}: no *.yaml files", directory.string()));
  }
  std::sort(paths.begin(), paths.end());  // claims and errors in a stable order
  std::vector<rule_file> files;
  for (const auto& path : paths) {
    std::ifstream stream(path, std::ios::binary);
    std::ostringstream text;
    text << stream.rdbuf();
    if (!stream) {
      throw input_error(fmt::format("architecture rules {}: cannot read the file", path.string()));
    }
    files.push_back({path.string(), text.str()});
  }
  return files;
}

std::vector<rule_file> embedded_rule_files() {
  std::vector<rule_file> files;
  for (const auto& [name, text] : embedded_architecture_files()) {
    files.push_back({std::string(name), std::string(text)});
  }
  return files;
}

}  // namespace

architecture_registry::architecture_registry() = default;
architecture_registry::architecture_registry(architecture_registry&&) noexcept = default;
architecture_registry& architecture_registry::operator=(architecture_registry&&) noexcept = default;
architecture_registry::~architecture_registry() = default;

architecture_registry architecture_registry::load(const std::optional<std::filesystem::path>& rules_dir) {
  const std::vector<rule_file> files = rules_dir ? read_rule_directory(*rules_dir) : embedded_rule_files();
  architecture_registry registry;
  std::vector<std::pair<std::string, std::string>> claimed_by;  // model_type → file
  for (const rule_file& file : files) {
    std::unique_ptr<architecture::rules> parsed = parse_architecture_rules(file.name, file.text);
    for (const std::string& model_type : parsed->model_types) {
      const auto earlier = std::find_if(claimed_by.begin(), claimed_by.end(),
                                        [&](const auto& claim) { return claim.first == model_type; });
      if (earlier != claimed_by.end()) {
        throw input_error(fmt::format("architecture rules {}: model_types: '{}' is already claimed by {}", file.name,
                                      model_type, earlier->second));
      }
      claimed_by.emplace_back(model_type, file.name);
      registry.by_model_type_.emplace_back(model_type, registry.architectures_.size());
    }
    registry.architectures_.push_back(std::make_unique<architecture>(std::move(parsed)));
  }
  std::sort(registry.by_model_type_.begin(), registry.by_model_type_.end());
  return registry;
}

const architecture* architecture_registry::find(std::string_view model_type) const noexcept {
  const auto found = std::lower_bound(by_model_type_.begin(), by_model_type_.end(), model_type,
                                      [](const auto& entry, std::string_view wanted) { return entry.first < wanted; });
  if (found == by_model_type_.end() || found->first != model_type) {
    return nullptr;
  }
  return architectures_[found->second].get();
}

std::vector<std::string> architecture_registry::known_model_types() const {
  std::vector<std::string> model_types;
  model_types.reserve(by_model_type_.size());
  for (const auto& entry : by_model_type_) {
    model_types.push_back(entry.first);
  }
  return model_types;
}

}  // namespace lineage
