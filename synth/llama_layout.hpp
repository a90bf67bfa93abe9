#pragma once
// The tensors and config.json of a Llama-style checkpoint (model_type "llama"), and the pieces of a
// decoder layer that the MoE layout (moe_layout.hpp) shares with it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "synth/synth.hpp"

namespace lineage::synth {

// How a tensor's values are drawn; derivations tell roles apart by rank (1-D vectors, 2-D
// matrices), so this is only needed for independent generation. A constant is not drawn at all:
// its values follow from its name and the config (constant_buffers.hpp).
enum class tensor_role { embedding, matrix, norm, bias, constant };

struct tensor_spec {
  std::string name;
  std::vector<std::uint64_t> shape;
  tensor_role role = tensor_role::matrix;
  std::optional<dtype> stored_type;  // nullopt: the model's dtype
};

// Appends the norms and attention projections of one decoder layer (`prefix` is
// "model.layers.L."), with q/k/v biases when `with_bias`.
void append_attention_tensors(const std::string& prefix, const model_shape& shape, bool with_bias,
                              std::vector<tensor_spec>& tensors);

// Appends a SwiGLU MLP (`prefix` + "{gate,up,down}_proj.weight") of width `width`.
void append_mlp_tensors(const std::string& prefix, std::uint64_t width, std::uint64_t hidden,
                        std::vector<tensor_spec>& tensors);

// Appends the embeddings, the final norm and (unless tied) lm_head.
void append_global_tensors(const model_shape& shape, std::vector<tensor_spec>& tensors);

void sort_by_name(std::vector<tensor_spec>& tensors);

// Every tensor of the model, sorted by name (the order of the files and of each header).
std::vector<tensor_spec> llama_tensors(const model_shape& shape);

// config.json of the model, without the "lineage_synth" provenance block.
nlohmann::json llama_config(const model_shape& shape, dtype type);

}  // namespace lineage::synth
