#include "job/job_config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "plan/plan.hpp"

namespace lineage {
namespace {

constexpr const char* allowed_keys =
    "model_a, model_b, output, block_elements, arch_dir, permutations_vector, permutations_matrix, permutations_products, "
    "permutations_experts, neuron_matching, hidden_matching, permutations_neurons, head_matching, "
    "permutations_heads, cross_layer, fingerprints, tokenizers, seed, alpha, reference_panel, panel_reports, "
    "memory_budget, io_mode, sha256_files, null_draws";

constexpr const char* allowed_io_modes = "map, read";

null_draws null_draws_value(const std::string& text, const std::string& what) {
  const auto draws = null_draws_named(text);
  if (!draws) throw usage_error(fmt::format("{}: expected one of auto, random, cyclic, got '{}'", what, text));
  return *draws;
}

io_mode io_mode_value(const std::string& text, const std::string& what) {
  if (text == "map") return io_mode::map;
  if (text == "read") return io_mode::read;
  throw usage_error(fmt::format("{}: expected one of {}, got '{}'", what, allowed_io_modes, text));
}

std::string read_text(const std::filesystem::path& path) {
  // A job file is a few hundred bytes; anything that is not a regular file of at most 1 MiB is not one.
  constexpr std::uintmax_t largest = std::uintmax_t{1} << 20;
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error))
    throw usage_error(fmt::format("{}: cannot read the job file: no such regular file", path.string()));
  if (const auto size = std::filesystem::file_size(path, error); !error && size > largest)
    throw usage_error(fmt::format("{}: {} bytes, more than a job file's limit of {}", path.string(), size, largest));
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw usage_error(fmt::format("{}: cannot read the job file", path.string()));
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

std::string string_value(const YAML::Node& node, const std::string& file, const std::string& key) {
  if (!node.IsScalar() || node.Scalar().empty())
    throw usage_error(fmt::format("{}: key '{}': expected a non-empty string", file, key));
  return node.Scalar();
}

std::uint64_t positive_integer(const YAML::Node& node, const std::string& file, const std::string& key) {
  std::uint64_t value = 0;
  // Decimal digits only: yaml-cpp's own conversion would read a leading 0 as octal ("010" → 8).
  if (!node.IsScalar() ||
      std::from_chars(node.Scalar().data(), node.Scalar().data() + node.Scalar().size(), value).ec != std::errc{} ||
      value == 0 || node.Scalar().find_first_not_of("0123456789") != std::string::npos)
    throw usage_error(fmt::format("{}: key '{}': expected a positive integer, got '{}'", file, key,
                                  node.IsScalar() ? node.Scalar() : std::string("(not a scalar)")));
  return value;
}

std::uint32_t count_value(const YAML::Node& node, const std::string& file, const std::string& key) {
  const std::string text = node.IsScalar() ? node.Scalar() : std::string("(not a scalar)");
  std::uint32_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
      text.find_first_not_of("0123456789") != std::string::npos)
    throw usage_error(fmt::format("{}: key '{}': expected a whole number from 0 to 4294967295, got '{}'",
                                  file, key, text));
  return value;
}

std::uint32_t positive_count(const YAML::Node& node, const std::string& file, const std::string& key) {
  const std::uint32_t value = count_value(node, file, key);
  if (value == 0) throw usage_error(fmt::format("{}: key '{}': expected at least 1, got 0", file, key));
  return value;
}

// A list of paths: a YAML sequence of non-empty strings (a single string is a list of one).
std::vector<std::string> path_list(const YAML::Node& node, const std::string& file, const std::string& key) {
  if (node.IsScalar()) return {string_value(node, file, key)};
  if (!node.IsSequence())
    throw usage_error(fmt::format("{}: key '{}': expected a list of paths", file, key));
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < node.size(); ++i)
    paths.push_back(string_value(node[i], file, fmt::format("{}[{}]", key, i)));
  return paths;
}

bool boolean_value(const YAML::Node& node, const std::string& file, const std::string& key) {
  const std::string text = node.IsScalar() ? node.Scalar() : std::string("(not a scalar)");
  if (text == "true") return true;
  if (text == "false") return false;
  throw usage_error(fmt::format("{}: key '{}': expected true or false, got '{}'", file, key, text));
}

double alpha_value(const YAML::Node& node, const std::string& file, const std::string& key) {
  double value = 0;
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, value) || !(value > 0 && value < 1))
    throw usage_error(fmt::format("{}: key '{}': expected a level between 0 and 1 (exclusive), got '{}'",
                                  file, key, node.IsScalar() ? node.Scalar() : std::string("(not a scalar)")));
  return value;
}

void apply_job_file(compare_config& config, const std::string& file) {
  config.config_text = read_text(file);
  YAML::Node root;
  try {
    root = YAML::Load(config.config_text);
  } catch (const YAML::Exception& e) {
    throw usage_error(fmt::format("{}: line {}: invalid YAML: {}", file, e.mark.line + 1, e.msg));
  }
  if (root.IsNull()) return;
  if (!root.IsMap()) throw usage_error(fmt::format("{}: expected a mapping of keys ({})", file, allowed_keys));
  std::set<std::string> seen;
  for (const auto& entry : root) {
    // The file is the user's (or a stranger's): a key that is not a plain name, or a key given
    // twice (yaml-cpp keeps both; which one wins would be an accident), is refused.
    if (!entry.first.IsScalar())
      throw usage_error(fmt::format("{}: line {}: a key must be a plain name, not a list or mapping ({})", file,
                                    entry.first.Mark().line + 1, allowed_keys));
    const std::string key = entry.first.Scalar();
    if (!seen.insert(key).second)
      throw usage_error(fmt::format("{}: line {}: key '{}' is given twice", file, entry.first.Mark().line + 1, key));
    const YAML::Node& value = entry.second;
    if (key == "model_a") config.model_a = string_value(value, file, key);
    else if (key == "model_b") config.model_b = string_value(value, file, key);
    else if (key == "output") config.output_dir = string_value(value, file, key);
    else if (key == "arch_dir") config.arch_dir = string_value(value, file, key);
    else if (key == "block_elements") config.block_elements = positive_integer(value, file, key);
    else if (key == "seed") config.seed = positive_integer(value, file, key);
    else if (key == "permutations_vector") config.permutations_vector = count_value(value, file, key);
    else if (key == "permutations_matrix") config.permutations_matrix = count_value(value, file, key);
    else if (key == "permutations_products") config.permutations_products = count_value(value, file, key);
    else if (key == "permutations_experts") config.permutations_experts = count_value(value, file, key);
    else if (key == "permutations_neurons") config.permutations_neurons = count_value(value, file, key);
    else if (key == "neuron_matching") config.match_neurons = boolean_value(value, file, key);
    else if (key == "hidden_matching") config.match_hidden = boolean_value(value, file, key);
    else if (key == "head_matching") config.match_heads = boolean_value(value, file, key);
    else if (key == "permutations_heads") config.permutations_heads = positive_count(value, file, key);
    else if (key == "cross_layer") config.cross_layer = boolean_value(value, file, key);
    else if (key == "fingerprints") config.fingerprints = boolean_value(value, file, key);
    else if (key == "tokenizers") config.tokenizers = boolean_value(value, file, key);
    else if (key == "sha256_files") config.sha256_files = boolean_value(value, file, key);
    else if (key == "memory_budget")
      config.memory_budget = parse_byte_size(value.IsScalar() ? value.Scalar() : std::string("(not a scalar)"),
                                             fmt::format("{}: key '{}'", file, key));
    else if (key == "null_draws")
      config.draws = null_draws_value(value.IsScalar() ? value.Scalar() : std::string("(not a scalar)"),
                                      fmt::format("{}: key '{}'", file, key));
    else if (key == "io_mode")
      config.io = io_mode_value(value.IsScalar() ? value.Scalar() : std::string("(not a scalar)"),
                                fmt::format("{}: key '{}'", file, key));
    else if (key == "alpha") config.alpha = alpha_value(value, file, key);
    else if (key == "reference_panel") config.reference_panel = path_list(value, file, key);
    else if (key == "panel_reports") config.panel_reports = path_list(value, file, key);
    else
      throw usage_error(fmt::format("{}: key '{}': unknown (allowed: {})", file, key, allowed_keys));
  }
}

}  // namespace

const char* io_mode_name(io_mode mode) noexcept { return mode == io_mode::read ? "read" : "map"; }

std::uint64_t parse_byte_size(const std::string& text, const std::string& what) {
  const auto bad = [&] {
    return usage_error(fmt::format("{}: expected a size such as 8GiB, 512MiB or a byte count (units B, K, M, G, "
                                   "T, KiB … TiB, KB … TB), got '{}'",
                                   what, text));
  };
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0) throw bad();
  std::uint64_t number = 0;
  if (std::from_chars(text.data(), text.data() + digits, number).ec != std::errc{}) throw bad();
  std::size_t at = digits;
  while (at < text.size() && text[at] == ' ') ++at;
  const std::string unit = text.substr(at);
  std::uint64_t scale = 0;
  constexpr std::uint64_t kibi = 1024, kilo = 1000;
  if (unit.empty() || unit == "B") scale = 1;
  else if (unit == "K" || unit == "KiB") scale = kibi;
  else if (unit == "M" || unit == "MiB") scale = kibi * kibi;
  else if (unit == "G" || unit == "GiB") scale = kibi * kibi * kibi;
  else if (unit == "T" || unit == "TiB") scale = kibi * kibi * kibi * kibi;
  else if (unit == "KB") scale = kilo;
  else if (unit == "MB") scale = kilo * kilo;
  else if (unit == "GB") scale = kilo * kilo * kilo;
  else if (unit == "TB") scale = kilo * kilo * kilo * kilo;
  else throw bad();
  if (number == 0) throw usage_error(fmt::format("{}: must be more than 0 bytes, got '{}'", what, text));
  if (number > std::numeric_limits<std::uint64_t>::max() / scale)
    throw usage_error(fmt::format("{}: '{}' is more bytes than 64 bits hold", what, text));
  return number * scale;
}

nlohmann::json compare_config::to_json() const {
  nlohmann::json j = {{"model_a", model_a},
                      {"model_b", model_b},
                      {"output", output_dir},
                      {"block_elements", block_elements},
                      {"permutations_vector", permutations_vector},
                      {"permutations_matrix", permutations_matrix},
                      {"permutations_products", permutations_products},
                      {"null_draws", null_draws_name(draws)},
                      {"permutations_experts", permutations_experts},
                      {"neuron_matching", match_neurons},
                      {"hidden_matching", match_hidden},
                      {"permutations_neurons", permutations_neurons},
                      {"head_matching", match_heads},
                      {"permutations_heads", permutations_heads},
                      {"cross_layer", cross_layer},
                      {"fingerprints", fingerprints},
                      {"tokenizers", tokenizers},
                      {"memory_budget", memory_budget},
                      {"io_mode", io_mode_name(io)},
                      {"sha256_files", sha256_files},
                      {"seed", seed},
                      {"alpha", alpha},
                      {"reference_panel", reference_panel},
                      {"panel_reports", panel_reports},
                      {"arch_dir", arch_dir ? nlohmann::json(*arch_dir) : nlohmann::json(nullptr)},
                      {"config_file", config_file ? nlohmann::json(*config_file) : nlohmann::json(nullptr)}};
  if (!config_text.empty()) j["config_text"] = config_text;
  return j;
}

compare_config compare_config::from_json(const nlohmann::json& j) {
  try {
    compare_config c;
    c.model_a = j.at("model_a").get<std::string>();
    c.model_b = j.at("model_b").get<std::string>();
    c.output_dir = j.at("output").get<std::string>();
    c.block_elements = j.at("block_elements").get<std::uint64_t>();
    c.permutations_vector = j.at("permutations_vector").get<std::uint32_t>();
    c.permutations_matrix = j.at("permutations_matrix").get<std::uint32_t>();
    c.permutations_products = j.at("permutations_products").get<std::uint32_t>();
    c.draws = null_draws_value(j.at("null_draws").get<std::string>(), "null_draws");
    c.permutations_experts = j.at("permutations_experts").get<std::uint32_t>();
    c.match_neurons = j.at("neuron_matching").get<bool>();
    c.match_hidden = j.at("hidden_matching").get<bool>();
    c.permutations_neurons = j.at("permutations_neurons").get<std::uint32_t>();
    c.match_heads = j.at("head_matching").get<bool>();
    c.permutations_heads = j.at("permutations_heads").get<std::uint32_t>();
    c.cross_layer = j.at("cross_layer").get<bool>();
    c.fingerprints = j.at("fingerprints").get<bool>();
    c.tokenizers = j.at("tokenizers").get<bool>();
    c.memory_budget = j.at("memory_budget").get<std::uint64_t>();
    c.io = io_mode_value(j.at("io_mode").get<std::string>(), "io_mode");
    c.sha256_files = j.at("sha256_files").get<bool>();
    c.seed = j.at("seed").get<std::uint64_t>();
    c.alpha = j.at("alpha").get<double>();
    c.reference_panel = j.at("reference_panel").get<std::vector<std::string>>();
    c.panel_reports = j.at("panel_reports").get<std::vector<std::string>>();
    if (!j.at("arch_dir").is_null()) c.arch_dir = j.at("arch_dir").get<std::string>();
    if (!j.at("config_file").is_null()) c.config_file = j.at("config_file").get<std::string>();
    if (j.contains("config_text")) c.config_text = j.at("config_text").get<std::string>();
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw internal_error(std::string("a compare config that to_json() did not write: ") + e.what());
  }
}

std::size_t panel_task_count(const compare_config& config) { return 2 * config.reference_panel.size(); }

compare_config panel_member_config(const compare_config& main, std::size_t index) {
  compare_config member = main;
  member.model_a = index % 2 == 0 ? main.model_a : main.model_b;
  member.model_b = main.reference_panel.at(index / 2);
  member.permutations_vector = 0;
  member.permutations_products = 0;
  member.permutations_matrix = 0;
  member.match_hidden = false;  // the panel needs the statistics of the roles only
  member.match_heads = false;
  return member;
}

compare_config panel_task_config(const compare_config& config, std::size_t index) {
  compare_config member = panel_member_config(config, index);
  member.output_dir = (std::filesystem::path(config.output_dir) / "panel" / std::to_string(index)).string();
  member.reference_panel.clear();
  member.panel_reports.clear();
  return member;
}

std::string panel_task_report(const compare_config& config, std::size_t index) {
  return (std::filesystem::path(config.output_dir) / "panel" / std::to_string(index) / "report.h5").string();
}

namespace {

// --panel-member and --panel-from-tasks: the job file's panel as a Slurm job array.
compare_config apply_panel_tasks(compare_config config, const compare_arguments& arguments) {
  if (!arguments.panel_member && !arguments.panel_from_tasks) return config;
  if (arguments.panel_member && arguments.panel_from_tasks)
    throw usage_error("--panel-member and --panel-from-tasks: give one (a panel task, or the job that merges them)");
  const std::size_t members = panel_task_count(config);
  const std::string source = config.config_file ? fmt::format("{}: key 'reference_panel'", *config.config_file)
                                                : std::string("--reference");
  if (members == 0)
    throw usage_error(fmt::format("{}: no reference models, so there are no panel tasks ({})",
                                  arguments.panel_member ? "--panel-member" : "--panel-from-tasks", source));
  if (arguments.panel_member) {
    if (*arguments.panel_member >= members)
      throw usage_error(fmt::format("--panel-member: {} is out of range: {} lists {} reference models, so the members "
                                    "are 0 to {}",
                                    *arguments.panel_member, source, config.reference_panel.size(), members - 1));
    return panel_task_config(config, *arguments.panel_member);
  }
  for (std::size_t i = 0; i < members; ++i) config.panel_reports.push_back(panel_task_report(config, i));
  config.reference_panel.clear();
  return config;
}

}  // namespace

compare_config resolve_compare_config(const compare_arguments& arguments) {
  compare_config config;
  config.block_elements = default_block_elements;
  if (arguments.config_file) {
    config.config_file = *arguments.config_file;
    apply_job_file(config, *arguments.config_file);
  }
  if (arguments.model_a) config.model_a = *arguments.model_a;
  if (arguments.model_b) config.model_b = *arguments.model_b;
  if (arguments.output_dir) config.output_dir = *arguments.output_dir;
  if (arguments.arch_dir) config.arch_dir = *arguments.arch_dir;
  if (arguments.block_elements) {
    if (*arguments.block_elements == 0) throw usage_error("--block-elements: must be at least 1");
    config.block_elements = *arguments.block_elements;
  }
  if (arguments.seed) config.seed = *arguments.seed;
  if (arguments.permutations_vector) config.permutations_vector = *arguments.permutations_vector;
  if (arguments.permutations_matrix) config.permutations_matrix = *arguments.permutations_matrix;
  if (arguments.permutations_products) config.permutations_products = *arguments.permutations_products;
  if (arguments.permutations_experts) config.permutations_experts = *arguments.permutations_experts;
  if (arguments.permutations_neurons) config.permutations_neurons = *arguments.permutations_neurons;
  if (arguments.no_neuron_matching) config.match_neurons = false;
  if (arguments.no_hidden_matching) config.match_hidden = false;
  if (arguments.permutations_heads) {
    if (*arguments.permutations_heads == 0)
      throw usage_error("--permutations-heads: must be at least 1 (head matching always uses a permutation null; "
                        "--no-head-matching skips it)");
    config.permutations_heads = *arguments.permutations_heads;
  }
  if (arguments.no_head_matching) config.match_heads = false;
  if (arguments.no_cross_layer) config.cross_layer = false;
  if (arguments.no_fingerprints) config.fingerprints = false;
  if (arguments.no_tokenizers) config.tokenizers = false;
  if (arguments.memory_budget) config.memory_budget = parse_byte_size(*arguments.memory_budget, "--memory-budget");
  if (arguments.io_mode) config.io = io_mode_value(*arguments.io_mode, "--io");
  if (arguments.null_draws) config.draws = null_draws_value(*arguments.null_draws, "--null-draws");
  if (arguments.sha256) config.sha256_files = true;
  if (arguments.alpha) {
    if (!(*arguments.alpha > 0 && *arguments.alpha < 1))
      throw usage_error(fmt::format("--alpha: expected a level between 0 and 1 (exclusive), got {}", *arguments.alpha));
    config.alpha = *arguments.alpha;
  }
  // Command-line lists replace the job file's (they do not add to them).
  if (!arguments.reference_panel.empty()) config.reference_panel = arguments.reference_panel;
  if (!arguments.panel_reports.empty()) config.panel_reports = arguments.panel_reports;
  const char* from = arguments.config_file ? " (or key in the job file)" : "";
  if (config.model_a.empty()) throw usage_error(fmt::format("model A: missing (first positional argument{})", from));
  if (config.model_b.empty()) throw usage_error(fmt::format("model B: missing (second positional argument{})", from));
  if (config.output_dir.empty()) throw usage_error(fmt::format("--output: missing{}", from));
  const std::string panel_source = !arguments.reference_panel.empty() || !config.config_file
                                       ? std::string("--reference")
                                       : fmt::format("{}: key 'reference_panel'", *config.config_file);
  for (const auto& reference : config.reference_panel)
    if (reference == config.model_a || reference == config.model_b)
      throw usage_error(fmt::format("{}: {} is model A or B itself; a reference must be a third model known to "
                                    "be unrelated to both",
                                    panel_source, reference));
  return apply_panel_tasks(std::move(config), arguments);
}

}  // namespace lineage
