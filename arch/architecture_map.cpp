// Mapping one tensor name to its views: the first matching rule of the architecture, or the
// generic fallback. Loading the rule files is in architecture_registry.cpp.
#include "arch/architecture_map.hpp"

#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "arch/architecture_rules.hpp"
#include "core/error.hpp"

namespace lineage {
namespace {

std::uint64_t rows_of(std::span<const std::uint64_t> shape) noexcept { return shape.empty() ? 1 : shape[0]; }

// Config values for one tensor's rule: config.json first, then the file's `derived` expressions
// (which is how phi3's missing head_dim becomes hidden_size / num_attention_heads).
class config_values {
 public:
  config_values(const nlohmann::json& config, const architecture::rules& rules, std::string_view tensor)
      : config_(config), rules_(rules), context_(fmt::format("tensor {}", tensor)) {}

  // `purpose` says in an error message what the value was needed for.
  std::int64_t evaluate(const row_expression& expression, const std::string& purpose) const {
    return expression.evaluate([&](const std::string& key) { return value(key, purpose); }, context_);
  }

 private:
  std::int64_t value(const std::string& key, const std::string& purpose) const {
    // A null value ("head_dim": null) means "not set" in Hugging Face configs, so derive it.
    const auto found = config_.is_object() ? config_.find(key) : config_.end();
    if (config_.is_object() && found != config_.end() && !found->is_null()) {
      if (found->is_number_unsigned()) {
        const auto number = found->get<std::uint64_t>();
        if (number > 0 && number <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          return static_cast<std::int64_t>(number);
        }
      } else if (found->is_number_integer() && found->get<std::int64_t>() > 0) {
        return found->get<std::int64_t>();
      }
      throw input_error(fmt::format("{}: config.json key '{}' must be a positive integer, not {} (needed for {})",
                                    context_, key, found->dump(), purpose));
    }
    if (const auto derived = rules_.derived.find(key); derived != rules_.derived.end()) {
      return evaluate(derived->second, purpose);  // acyclic: checked when the file was loaded
    }
    throw input_error(fmt::format("{}: config.json lacks key '{}' (needed for {}; rules {})", context_, key,
                                  purpose, rules_.file));
  }

  const nlohmann::json& config_;
  const architecture::rules& rules_;
  std::string context_;
};

// The key of a tensor of layer `layer`. Trailing (multi-token-prediction) layers get the file's
// role prefix, unless the rule already wrote it (the MTP-only tensors such as enorm spell their
// "mtp." roles out in the rule file), and are numbered from 0 after the main stack: GLM-4.5-Air's
// layer 46 is MTP block 0, and so is layer 48 of a 48-layer derivative, so the two blocks pair
// however deep the main stacks are.
tensor_key key_for_layer(const std::string& role, int layer, int expert, const architecture::rules& rules,
                         const config_values& values) {
  if (layer < 0 || !rules.mtp_layers) return {layer, role, expert};
  const trailing_layers& trailing = *rules.mtp_layers;
  const std::int64_t first = values.evaluate(trailing.first, "mtp_layers.first");
  const bool prefixed = role.starts_with(trailing.role_prefix);
  if (layer < first) return {layer, role, expert};
  return {static_cast<int>(layer - first), prefixed ? role : trailing.role_prefix + role, expert};
}

std::vector<tensor_view> split_views(const name_rule& rule, const name_pattern::captures& captured,
                                     std::string_view name, std::span<const std::uint64_t> shape,
                                     const architecture::rules& rules, const config_values& values) {
  std::vector<tensor_view> views;
  std::vector<std::string> terms;
  std::uint64_t row = 0;
  for (const split_part& part : rule.parts) {
    const std::int64_t rows = values.evaluate(part.rows, fmt::format("rows of {}", part.label));
    tensor_view view;
    view.key = key_for_layer(part.role, captured.layer, captured.expert, rules, values);
    view.label = fmt::format("{}[{}]", name, part.label);
    view.row_begin = row;
    // The config is untrusted: a part may not be negative, and the sum may not wrap past shape[0].
    if (rows < 0 || __builtin_add_overflow(row, static_cast<std::uint64_t>(rows), &view.row_end) ||
        view.row_end > rows_of(shape)) {
      throw input_error(fmt::format("tensor {}: split part {} ({} = {}) does not fit in shape[0] = {} after {} rows "
                                    "(rules {})",
                                    name, part.label, part.rows.text(), rows, rows_of(shape), row, rules.file));
    }
    row = view.row_end;
    terms.push_back(fmt::format("{} ({} = {})", part.label, part.rows.text(), rows));
    views.push_back(std::move(view));
  }
  if (row != rows_of(shape)) {
    throw input_error(fmt::format("tensor {}: the split parts {} add up to {} rows, but shape[0] is {} (rules {})",
                                  name, fmt::join(terms, " + "), row, rows_of(shape), rules.file));
  }
  return views;
}

}  // namespace

bool tensor_view::whole(std::span<const std::uint64_t> shape) const noexcept {
  return row_begin == 0 && row_end == rows_of(shape);
}

tensor_view map_generic(std::string_view name, std::span<const std::uint64_t> shape) {
  tensor_view view;
  view.label = std::string(name);
  view.row_end = rows_of(shape);
  view.key.role.reserve(name.size());
  std::size_t begin = 0;
  while (true) {
    const std::size_t dot = name.find('.', begin);
    const std::string_view piece = name.substr(begin, dot == std::string_view::npos ? std::string_view::npos : dot - begin);
    const std::optional<int> index = view.key.layer < 0 ? parse_index(piece) : std::nullopt;
    if (index) {
      view.key.layer = *index;
      view.key.role += '*';
    } else {
      view.key.role += piece;
    }
    if (dot == std::string_view::npos) {
      break;
    }
    view.key.role += '.';
    begin = dot + 1;
  }
  return view;
}

architecture::architecture(std::unique_ptr<rules> parsed) : rules_(std::move(parsed)) {}
architecture::~architecture() = default;

const std::string& architecture::name() const noexcept { return rules_->name; }

std::vector<axis_kind> architecture::axes(std::string_view role, std::size_t rank) const {
  auto found = rules_->axes.find(role);
  if (found == rules_->axes.end() && rules_->mtp_layers && role.starts_with(rules_->mtp_layers->role_prefix))
    found = rules_->axes.find(role.substr(rules_->mtp_layers->role_prefix.size()));
  if (found == rules_->axes.end() || found->second.size() != rank) return std::vector<axis_kind>(rank);
  return found->second;
}

bool architecture::rope() const noexcept { return rules_->rope; }

std::vector<tensor_view> architecture::map(std::string_view name, std::span<const std::uint64_t> shape,
                                           const nlohmann::json& config) const {
  for (const name_rule& rule : rules_->name_rules) {
    for (const name_pattern& pattern : rule.patterns) {
      const std::optional<name_pattern::captures> captured = pattern.match(name);
      if (!captured) {
        continue;
      }
      const config_values values(config, *rules_, name);
      if (!rule.parts.empty()) {
        return split_views(rule, *captured, name, shape, *rules_, values);
      }
      tensor_view view;
      view.key = key_for_layer(rule.role, captured->layer, captured->expert, *rules_, values);
      view.label = std::string(name);
      view.row_end = rows_of(shape);
      return {std::move(view)};
    }
  }
  return {map_generic(name, shape)};
}

}  // namespace lineage
