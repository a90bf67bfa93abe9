#pragma once
// The tensors and config.json of a GLM-4.5-style Mixture-of-Experts checkpoint (model_type
// "glm4_moe", names as configs/architectures/glm4_moe.yaml maps them): Llama attention with q/k/v
// biases, first_k_dense_replace dense layers, then layers whose MLP is a sigmoid router over
// routed experts plus optional shared experts, and optionally one multi-token-prediction block at
// layer index num_hidden_layers.
#include <nlohmann/json.hpp>
#include <vector>

#include "synth/llama_layout.hpp"
#include "synth/synth.hpp"

namespace lineage::synth {

// Checks the MoE settings of `shape` (called by model_shape::validate): without experts none may
// be set; with them --expert-intermediate is at least 1 and at least one main layer is MoE.
void validate_moe_shape(const model_shape& shape);

// Every tensor of the model (shape.experts > 0), sorted by name. The router's
// e_score_correction_bias is stored in F32 whatever the model's dtype, as in GLM-4.5's own files.
std::vector<tensor_spec> glm4_moe_tensors(const model_shape& shape);

// config.json of the model, without the "lineage_synth" provenance block.
nlohmann::json glm4_moe_config(const model_shape& shape, dtype type);

// The layout `shape` asks for: glm4_moe with experts, llama without.
std::vector<tensor_spec> model_tensors(const model_shape& shape);
nlohmann::json model_config(const model_shape& shape, dtype type);

}  // namespace lineage::synth
