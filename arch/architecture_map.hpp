#pragma once
// Tensor names → canonical keys (layer, role, expert), by rules kept as data in
// configs/architectures/*.yaml (compiled into the binary; --arch-dir loads another set).
//
// Two checkpoints are compared tensor by tensor where their canonical keys are equal, so a
// Mixtral `block_sparse_moe.experts.3.w1.weight` meets a Qwen-MoE `mlp.experts.3.gate_proj.weight`
// as (layer, "mlp.experts.gate_proj.weight", 3). Fused tensors (phi3 qkv_proj, gate_up_proj) are split
// into row ranges, one view per role, with sizes computed from config.json.
#include <compare>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "arch/architecture_axes.hpp"

namespace lineage {

struct tensor_key {
  int layer = -1;   // -1: not inside a layer (embeddings, final norm, lm_head)
  std::string role; // canonical role, e.g. "self_attn.q_proj.weight" (see configs/architectures/README.md)
  int expert = -1;  // -1: not a routed expert
  auto operator<=>(const tensor_key&) const = default;
};

// What a rule makes of one tensor: the whole tensor, or a range of its rows (dimension 0).
struct tensor_view {
  tensor_key key;
  std::string label;           // tensor name; "name[q_proj]" for a part of a fused tensor
  std::uint64_t row_begin = 0; // rows [row_begin, row_end) of dimension 0
  std::uint64_t row_end = 0;   // == shape[0] (1 for a 0-d tensor) when the view is the whole tensor
  [[nodiscard]] bool whole(std::span<const std::uint64_t> shape) const noexcept;
};

class architecture;

class architecture_registry {
 public:
  // The embedded rules, or the *.yaml files of `rules_dir` when given. Throws input_error naming
  // the file and key for a malformed rule file (bad YAML, unknown key, bad pattern, model_type
  // claimed by two files).
  static architecture_registry load(const std::optional<std::filesystem::path>& rules_dir);

  architecture_registry(architecture_registry&&) noexcept;
  architecture_registry& operator=(architecture_registry&&) noexcept;
  ~architecture_registry();

  // The architecture whose `model_types` lists `model_type`, or nullptr (use map_generic).
  [[nodiscard]] const architecture* find(std::string_view model_type) const noexcept;
  [[nodiscard]] std::vector<std::string> known_model_types() const;

 private:
  architecture_registry();
  std::vector<std::unique_ptr<architecture>> architectures_;
  // (model_type, index into architectures_), sorted by model_type for find().
  std::vector<std::pair<std::string, std::size_t>> by_model_type_;
};

class architecture {
 public:
  [[nodiscard]] const std::string& name() const noexcept;
  // The views of tensor `name` (usually one; several for a split fused tensor). Names no rule
  // matches get the generic mapping. Throws input_error naming the tensor and the config key when a
  // split needs a config value that is missing or not a positive integer, or when the parts do not
  // add up to shape[0].
  [[nodiscard]] std::vector<tensor_view> map(std::string_view name,
                                             std::span<const std::uint64_t> shape,
                                             const nlohmann::json& config) const;
  // The kinds of the axes of a tensor of `role` with `rank` dimensions (a role with the MTP prefix
  // falls back to the role without it): the file's `axes:` entry, or all unknown when it has none or
  // one of another rank (a vector stored as [1, n], say, is never guessed at).
  [[nodiscard]] std::vector<axis_kind> axes(std::string_view role, std::size_t rank) const;
  // Whether q/k dimensions inside a head are paired by rotary position embedding (`rope:`).
  [[nodiscard]] bool rope() const noexcept;

  struct rules;  // parsed YAML (architecture_rules.cpp)
  explicit architecture(std::unique_ptr<rules> parsed);
  ~architecture();

 private:
  std::unique_ptr<rules> rules_;
};

// Fallback for unknown model types: the first purely numeric dot-separated component of the name
// is the layer, the role is the name with that component replaced by "*", expert -1. Two
// checkpoints mapped this way pair identical names.
tensor_view map_generic(std::string_view name, std::span<const std::uint64_t> shape);

}  // namespace lineage
