#include "synth/structure_layout.hpp"

#include <fmt/format.h>

#include <cmath>

#include "core/error.hpp"
#include "synth/constant_buffers.hpp"

namespace lineage::synth {

namespace {

// The first option given that needs the shared seed, or nullptr.
const char* option_needing_seed(const shared_structure& structure) {
  if (structure.token_profile) return "--token-profile";
  if (structure.special_tokens > 0) return "--special-tokens";
  if (structure.unused_tokens > 0) return "--unused-tokens";
  if (structure.classes > 0) return "--classes";
  if (structure.constant_buffers) return "--constant-buffers";
  if (structure.gate_up != 0.0) return "--gate-up";
  return nullptr;
}

}  // namespace

void validate_structure(const shared_structure& structure, const model_shape& shape) {
  if (const char* option = option_needing_seed(structure); option != nullptr && !structure.shared_seed)
    throw usage_error(
        fmt::format("synth: {} needs --shared-seed (the seed of the structure that the models of "
                    "one shared seed have in common)",
                    option));
  if (structure.special_tokens + structure.unused_tokens >= shape.vocab)
    throw usage_error(
        fmt::format("synth: --special-tokens {} and --unused-tokens {} leave no ordinary token of "
                    "--vocab {}",
                    structure.special_tokens, structure.unused_tokens, shape.vocab));
  if (!(structure.gate_up >= 0.0 && structure.gate_up < 1.0))
    throw usage_error(fmt::format("synth: --gate-up {} must be in [0, 1)", structure.gate_up));
}

void add_structure_tensors(const shared_structure& structure, const model_shape& shape, nlohmann::json& config,
                           std::vector<tensor_spec>& tensors) {
  if (structure.classes == 0 && !structure.constant_buffers) return;
  if (structure.classes > 0) {
    tensors.push_back({"score.weight", {structure.classes, shape.hidden}, tensor_role::matrix, {}});
    tensors.push_back({"score.bias", {structure.classes}, tensor_role::bias, {}});
    config["num_labels"] = structure.classes;
  }
  if (structure.constant_buffers) {
    const std::uint64_t layer_count = shape.layers + (shape.mtp ? 1 : 0);
    for (auto& constant : constant_buffer_tensors(layer_count, config)) tensors.push_back(std::move(constant));
  }
  sort_by_name(tensors);
}

nlohmann::json structure_provenance(const shared_structure& structure) {
  return {{"shared_seed", structure.shared_seed.value_or(0)},
          {"token_profile", structure.token_profile},
          {"special_tokens", structure.special_tokens},
          {"unused_tokens", structure.unused_tokens},
          {"classes", structure.classes},
          {"constant_buffers", structure.constant_buffers},
          {"gate_up", structure.gate_up}};
}

}  // namespace lineage::synth
