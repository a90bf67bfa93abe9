#include "arch/architecture_rules.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "core/error.hpp"

namespace lineage {
namespace {

// Reads one rule file strictly: a typo in a key would otherwise silently drop a rule, and the
// tensors it should have mapped would pair by raw name or not at all.
class rule_file_reader {
 public:
  explicit rule_file_reader(std::string_view file) : file_(file) {}

  [[noreturn]] void fail(std::string_view key_path, const YAML::Node& node, std::string_view what) const {
    const int line = node.IsDefined() ? node.Mark().line : -1;
    if (line >= 0) {
      throw input_error(fmt::format("architecture rules {}: {} (line {}): {}", file_, key_path, line + 1, what));
    }
    throw input_error(fmt::format("architecture rules {}: {}: {}", file_, key_path, what));
  }

  // The entries of a mapping, each key once and among `allowed`.
  std::vector<std::pair<std::string, YAML::Node>> entries(const YAML::Node& node, std::string_view key_path,
                                                          const std::vector<std::string_view>& allowed) const {
    if (!node.IsMap()) {
      fail(key_path, node, "expected a mapping");
    }
    std::vector<std::pair<std::string, YAML::Node>> found;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        fail(key_path, entry.first, "keys must be plain strings");
      }
      const std::string key = entry.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        fail(child(key_path, key), entry.first, fmt::format("unknown key '{}' (allowed: {})", key, fmt::join(allowed, ", ")));
      }
      if (std::any_of(found.begin(), found.end(), [&](const auto& seen) { return seen.first == key; })) {
        fail(child(key_path, key), entry.first, "key given twice");
      }
      found.emplace_back(key, entry.second);
    }
    return found;
  }

  std::string scalar(const YAML::Node& node, std::string_view key_path) const {
    if (!node.IsScalar() || node.Scalar().empty()) {
      fail(key_path, node, "expected a non-empty string");
    }
    return node.Scalar();
  }

  // A role is a dotted name of [A-Za-z0-9_] components; anything else is a typo that would never pair.
  std::string role(const YAML::Node& node, std::string_view key_path) const {
    std::string text = scalar(node, key_path);
    bool component_empty = true;
    for (const char c : text) {
      if (c == '.') {
        if (component_empty) {
          fail(key_path, node, fmt::format("role '{}' has an empty component", text));
        }
        component_empty = true;
      } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
        component_empty = false;
      } else {
        fail(key_path, node, fmt::format("role '{}' may hold only letters, digits, '_' and '.'", text));
      }
    }
    if (component_empty) {
      fail(key_path, node, fmt::format("role '{}' has an empty component", text));
    }
    return text;
  }

  row_expression expression(const YAML::Node& node, std::string_view key_path) const {
    const std::string text = scalar(node, key_path);
    try {
      return row_expression::parse(text);
    } catch (const std::invalid_argument& bad) {
      fail(key_path, node, bad.what());
    }
  }

  static std::string child(std::string_view key_path, std::string_view key) {
    return key_path.empty() ? std::string(key) : fmt::format("{}.{}", key_path, key);
  }
  static std::string item(std::string_view key_path, std::size_t index) { return fmt::format("{}[{}]", key_path, index); }

  const std::string& file() const noexcept { return file_; }

 private:
  std::string file_;
};

// "self_attn.q_proj.weight" → "q_proj": the component that names the module.
std::string part_label(const std::string& role) {
  std::vector<std::string_view> components;
  std::string_view rest = role;
  for (std::size_t dot = rest.find('.'); dot != std::string_view::npos; dot = rest.find('.')) {
    components.push_back(rest.substr(0, dot));
    rest.remove_prefix(dot + 1);
  }
  components.push_back(rest);
  const bool ends_in_parameter = components.size() > 1 && (components.back() == "weight" || components.back() == "bias");
  return std::string(ends_in_parameter ? components[components.size() - 2] : components.back());
}

std::vector<std::string> parse_model_types(const rule_file_reader& reader, const YAML::Node& node) {
  if (!node.IsSequence() || node.size() == 0) {
    reader.fail("model_types", node, "expected a non-empty list of config.json model_type values");
  }
  std::vector<std::string> model_types;
  for (std::size_t index = 0; index < node.size(); ++index) {
    const std::string key_path = rule_file_reader::item("model_types", index);
    std::string model_type = reader.scalar(node[index], key_path);
    if (model_type.find_first_of(" \t") != std::string::npos) {
      reader.fail(key_path, node[index], fmt::format("model_type '{}' contains whitespace", model_type));
    }
    if (std::find(model_types.begin(), model_types.end(), model_type) != model_types.end()) {
      reader.fail(key_path, node[index], fmt::format("model_type '{}' listed twice", model_type));
    }
    model_types.push_back(std::move(model_type));
  }
  return model_types;
}

std::vector<name_pattern> parse_match(const rule_file_reader& reader, const YAML::Node& node, std::string_view key_path) {
  std::vector<std::pair<std::string, YAML::Node>> texts;
  if (node.IsScalar()) {
    texts.emplace_back(reader.scalar(node, key_path), node);
  } else if (node.IsSequence() && node.size() > 0) {
    for (std::size_t index = 0; index < node.size(); ++index) {
      const std::string item_path = rule_file_reader::item(key_path, index);
      texts.emplace_back(reader.scalar(node[index], item_path), node[index]);
    }
  } else {
    reader.fail(key_path, node, "expected a pattern or a non-empty list of patterns");
  }
  std::vector<name_pattern> patterns;
  for (const auto& [text, text_node] : texts) {
    try {
      patterns.push_back(name_pattern::parse(text));
    } catch (const std::invalid_argument& bad) {
      reader.fail(key_path, text_node, bad.what());
    }
  }
  return patterns;
}

std::vector<split_part> parse_split(const rule_file_reader& reader, const YAML::Node& node, std::string_view key_path) {
  if (!node.IsSequence() || node.size() < 2) {
    reader.fail(key_path, node, "expected a list of at least two {role, rows} parts");
  }
  std::vector<split_part> parts;
  for (std::size_t index = 0; index < node.size(); ++index) {
    const std::string part_path = rule_file_reader::item(key_path, index);
    std::optional<std::string> role;
    std::optional<row_expression> rows;
    for (const auto& [key, value] : reader.entries(node[index], part_path, {"role", "rows"})) {
      const std::string value_path = rule_file_reader::child(part_path, key);
      if (key == "role") {
        role = reader.role(value, value_path);
      } else {
        rows = reader.expression(value, value_path);
      }
    }
    if (!role) {
      reader.fail(part_path, node[index], "missing key 'role'");
    }
    if (!rows) {
      reader.fail(part_path, node[index], "missing key 'rows'");
    }
    split_part part{*role, part_label(*role), std::move(*rows)};
    for (const split_part& earlier : parts) {
      if (earlier.role == part.role || earlier.label == part.label) {
        reader.fail(part_path, node[index], fmt::format("part '{}' repeats an earlier part's role or label", part.role));
      }
    }
    parts.push_back(std::move(part));
  }
  return parts;
}

name_rule parse_rule(const rule_file_reader& reader, const YAML::Node& node, std::string_view key_path) {
  name_rule rule;
  bool has_match = false;
  for (const auto& [key, value] : reader.entries(node, key_path, {"match", "role", "split_rows"})) {
    const std::string value_path = rule_file_reader::child(key_path, key);
    if (key == "match") {
      rule.patterns = parse_match(reader, value, value_path);
      has_match = true;
    } else if (key == "role") {
      rule.role = reader.role(value, value_path);
    } else {
      rule.parts = parse_split(reader, value, value_path);
    }
  }
  if (!has_match) {
    reader.fail(key_path, node, "missing key 'match'");
  }
  if (rule.role.empty() == rule.parts.empty()) {
    reader.fail(key_path, node, rule.role.empty() ? "missing key 'role' (or 'split_rows')"
                                                  : "give either 'role' or 'split_rows', not both");
  }
  return rule;
}

std::vector<name_rule> parse_rules(const rule_file_reader& reader, const YAML::Node& node) {
  if (!node.IsSequence() || node.size() == 0) {
    reader.fail("rules", node, "expected a non-empty list of rules");
  }
  std::vector<name_rule> rules;
  for (std::size_t index = 0; index < node.size(); ++index) {
    const std::string key_path = rule_file_reader::item("rules", index);
    name_rule rule = parse_rule(reader, node[index], key_path);
    // A pattern given twice means the later rule can never fire: certainly a mistake.
    for (const name_pattern& pattern : rule.patterns) {
      const auto repeats = [&](const name_rule& earlier) {
        return std::find(earlier.patterns.begin(), earlier.patterns.end(), pattern) != earlier.patterns.end();
      };
      const long same_rule = std::count(rule.patterns.begin(), rule.patterns.end(), pattern);
      if (same_rule > 1 || std::any_of(rules.begin(), rules.end(), repeats)) {
        reader.fail(rule_file_reader::child(key_path, "match"), node[index],
                    fmt::format("pattern '{}' appears in an earlier rule", pattern.text()));
      }
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

bool is_config_key(std::string_view text) {
  if (text.empty() || (text.front() >= '0' && text.front() <= '9')) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::map<std::string, row_expression, std::less<>> parse_derived(const rule_file_reader& reader, const YAML::Node& node) {
  if (!node.IsMap()) {
    reader.fail("derived", node, "expected a mapping from config key to expression");
  }
  std::map<std::string, row_expression, std::less<>> derived;
  for (const auto& entry : node) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
    const std::string key_path = rule_file_reader::child("derived", key);
    if (!is_config_key(key)) {
      reader.fail(key_path, entry.first, "keys must be config key names ([A-Za-z_][A-Za-z0-9_]*)");
    }
    if (derived.count(key) != 0) {
      reader.fail(key_path, entry.first, "key given twice");
    }
    derived.emplace(key, reader.expression(entry.second, key_path));
  }
  // A cycle would recurse forever when the config lacks every key on it; refuse it here.
  std::set<std::string, std::less<>> done;
  std::vector<std::string> path;
  const auto visit = [&](const auto& self, const std::string& key) -> void {
    if (done.count(key) != 0) {
      return;
    }
    if (std::find(path.begin(), path.end(), key) != path.end()) {
      path.push_back(key);
      reader.fail(rule_file_reader::child("derived", path.front()), node,
                  fmt::format("derived keys refer to each other in a cycle ({})", fmt::join(path, " -> ")));
    }
    path.push_back(key);
    if (const auto found = derived.find(key); found != derived.end()) {
      for (const std::string& used : found->second.keys()) {
        self(self, used);
      }
    }
    path.pop_back();
    done.insert(key);
  };
  for (const auto& entry : derived) {
    visit(visit, entry.first);
  }
  return derived;
}

trailing_layers parse_mtp_layers(const rule_file_reader& reader, const YAML::Node& node) {
  std::optional<row_expression> first;
  std::string prefix;
  for (const auto& [key, value] : reader.entries(node, "mtp_layers", {"first", "role_prefix"})) {
    const std::string key_path = rule_file_reader::child("mtp_layers", key);
    if (key == "first") {
      first = reader.expression(value, key_path);
    } else {
      prefix = reader.scalar(value, key_path);
    }
  }
  if (!first) {
    reader.fail("mtp_layers", node, "missing key 'first'");
  }
  if (prefix.empty()) {
    reader.fail("mtp_layers", node, "missing key 'role_prefix'");
  }
  return trailing_layers{std::move(*first), std::move(prefix)};
}

// `axes:` maps a role to the kinds of its axes, dimension 0 first.
std::map<std::string, std::vector<axis_kind>, std::less<>> parse_axes(const rule_file_reader& reader,
                                                                     const YAML::Node& node) {
  if (!node.IsMap()) reader.fail("axes", node, "expected a mapping from role to a list of axis kinds");
  std::map<std::string, std::vector<axis_kind>, std::less<>> axes;
  for (const auto& entry : node) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
    const std::string key_path = rule_file_reader::child("axes", key);
    const std::string role = reader.role(entry.first, key_path);
    if (axes.count(role) != 0) reader.fail(key_path, entry.first, "role given twice");
    if (!entry.second.IsSequence() || entry.second.size() == 0)
      reader.fail(key_path, entry.second, "expected a non-empty list of axis kinds, e.g. [neuron, hidden]");
    std::vector<axis_kind> kinds;
    for (std::size_t index = 0; index < entry.second.size(); ++index) {
      const std::string item_path = rule_file_reader::item(key_path, index);
      const std::string name = reader.scalar(entry.second[index], item_path);
      const auto kind = parse_axis_kind(name);
      if (!kind)
        reader.fail(item_path, entry.second[index],
                    fmt::format("unknown axis kind '{}' (configs/architectures/README.md lists them)", name));
      kinds.push_back(*kind);
    }
    axes.emplace(role, std::move(kinds));
  }
  return axes;
}

bool parse_flag(const rule_file_reader& reader, const YAML::Node& node, std::string_view key_path) {
  const std::string text = reader.scalar(node, key_path);
  if (text == "true") return true;
  if (text == "false") return false;
  reader.fail(key_path, node, fmt::format("expected true or false, not '{}'", text));
}

std::string file_stem(std::string_view file) {
  const std::size_t slash = file.find_last_of('/');
  std::string_view stem = slash == std::string_view::npos ? file : file.substr(slash + 1);
  if (const std::size_t dot = stem.rfind('.'); dot != std::string_view::npos && dot > 0) {
    stem = stem.substr(0, dot);
  }
  return std::string(stem);
}

}  // namespace

std::unique_ptr<architecture::rules> parse_architecture_rules(std::string_view file, std::string_view yaml_text) {
  const rule_file_reader reader(file);
  YAML::Node document;
  try {
    document = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& bad) {
    throw input_error(fmt::format("architecture rules {}: not valid YAML: {}", file, bad.what()));
  }
  auto parsed = std::make_unique<architecture::rules>();
  parsed->name = file_stem(file);
  parsed->file = std::string(file);
  bool has_model_types = false;
  bool has_rules = false;
  try {
    for (const auto& [key, value] : reader.entries(document, "top level",
                                                      {"model_types", "rules", "derived", "mtp_layers", "axes", "rope"})) {
      if (key == "model_types") {
        parsed->model_types = parse_model_types(reader, value);
        has_model_types = true;
      } else if (key == "rules") {
        parsed->name_rules = parse_rules(reader, value);
        has_rules = true;
      } else if (key == "derived") {
        parsed->derived = parse_derived(reader, value);
      } else if (key == "axes") {
        parsed->axes = parse_axes(reader, value);
      } else if (key == "rope") {
        parsed->rope = parse_flag(reader, value, "rope");
      } else {
        parsed->mtp_layers = parse_mtp_layers(reader, value);
      }
    }
  } catch (const YAML::Exception& bad) {
    // yaml-cpp throws on a few shapes our checks do not anticipate; still name the file.
    throw input_error(fmt::format("architecture rules {}: {}", file, bad.what()));
  }
  if (!has_model_types) {
    reader.fail("model_types", document, "missing (the config.json model_type values this file covers)");
  }
  if (!has_rules) {
    reader.fail("rules", document, "missing (the list of name rules)");
  }
  return parsed;
}

}  // namespace lineage
