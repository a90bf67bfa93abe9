#pragma once
// The parsed form of one configs/architectures/*.yaml file (format: configs/architectures/README.md).
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arch/architecture_axes.hpp"
#include "arch/architecture_expression.hpp"
#include "arch/architecture_map.hpp"
#include "arch/architecture_pattern.hpp"

namespace lineage {

// One part of a fused tensor: the next `rows` rows of dimension 0 belong to `role`.
struct split_part {
  std::string role;
  std::string label;  // short name shown in the view label, e.g. "q_proj" for self_attn.q_proj.weight
  row_expression rows;
};

// Names matching any of `patterns` map to `role`, or, for a fused tensor, to consecutive row
// ranges, one per entry of `parts` (exactly one of `role` and `parts` is set).
struct name_rule {
  std::vector<name_pattern> patterns;
  std::string role;
  std::vector<split_part> parts;
};

// Layers at and past `first` (multi-token-prediction blocks appended after the main stack) get
// `role_prefix` on their roles, so they never pair with an ordinary layer of the same index.
struct trailing_layers {
  row_expression first;
  std::string role_prefix;
};

struct architecture::rules {
  std::string name;  // file stem, e.g. "llama"
  std::string file;  // as named in error messages
  std::vector<std::string> model_types;
  std::vector<name_rule> name_rules;  // first match wins
  // Values used when config.json lacks the key (e.g. head_dim).
  std::map<std::string, row_expression, std::less<>> derived;
  std::optional<trailing_layers> mtp_layers;
  // What each axis of a role's tensors means (`axes:`), and whether q/k dimensions inside a head are
  // paired by rotary position embedding (`rope:`, default true), which makes them non-exchangeable.
  std::map<std::string, std::vector<axis_kind>, std::less<>> axes;
  bool rope = true;
};

// Parses and validates one rule file. Throws input_error naming `file` and the offending key.
std::unique_ptr<architecture::rules> parse_architecture_rules(std::string_view file, std::string_view yaml_text);

}  // namespace lineage
