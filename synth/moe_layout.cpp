#include "synth/moe_layout.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"
#include "synth/value_codec.hpp"

namespace lineage::synth {

namespace {

// The router, routed experts and shared experts of one MoE layer.
void append_moe_tensors(const std::string& prefix, const model_shape& shape,
                        std::vector<tensor_spec>& tensors) {
  tensors.push_back(
      {prefix + "mlp.gate.weight", {shape.experts, shape.hidden}, tensor_role::matrix, {}});
  tensors.push_back({prefix + "mlp.gate.e_score_correction_bias",
                     {shape.experts},
                     tensor_role::bias,
                     dtype::f32});
  for (std::uint64_t expert = 0; expert < shape.experts; ++expert)
    append_mlp_tensors(fmt::format("{}mlp.experts.{}.", prefix, expert), shape.expert_intermediate,
                       shape.hidden, tensors);
  if (shape.shared_experts > 0)
    append_mlp_tensors(prefix + "mlp.shared_experts.",
                       shape.shared_experts * shape.expert_intermediate, shape.hidden, tensors);
}

// The tensors only the multi-token-prediction block has: it normalises the embedding of the next
// token (enorm) and the main stack's hidden state (hnorm), projects their concatenation back to
// the hidden size (eh_proj), and normalises before the shared lm_head.
void append_mtp_tensors(const std::string& prefix, const model_shape& shape,
                        std::vector<tensor_spec>& tensors) {
  tensors.push_back({prefix + "enorm.weight", {shape.hidden}, tensor_role::norm, {}});
  tensors.push_back({prefix + "hnorm.weight", {shape.hidden}, tensor_role::norm, {}});
  tensors.push_back(
      {prefix + "eh_proj.weight", {shape.hidden, 2 * shape.hidden}, tensor_role::matrix, {}});
  tensors.push_back({prefix + "shared_head.norm.weight", {shape.hidden}, tensor_role::norm, {}});
}

std::uint64_t experts_per_token(const model_shape& shape) {
  return std::min<std::uint64_t>(shape.experts, 2);
}

}  // namespace

void validate_moe_shape(const model_shape& shape) {
  if (!shape.is_moe()) {
    if (shape.shared_experts > 0)
      throw usage_error("synth: --shared-experts needs --experts (a dense model has no experts)");
    if (shape.dense_layers > 0)
      throw usage_error("synth: --dense-layers needs --experts (a dense model has no MoE layers)");
    if (shape.mtp) throw usage_error("synth: --mtp needs --experts (the MTP block is glm4_moe's)");
    return;
  }
  if (shape.expert_intermediate == 0)
    throw usage_error("synth: --expert-intermediate must be at least 1");
  if (shape.dense_layers >= shape.layers)
    throw usage_error(fmt::format(
        "synth: --dense-layers {} must be less than --layers {} (at least one MoE layer)",
        shape.dense_layers, shape.layers));
}

std::vector<tensor_spec> glm4_moe_tensors(const model_shape& shape) {
  std::vector<tensor_spec> tensors;
  append_global_tensors(shape, tensors);
  const std::uint64_t layer_count = shape.layers + (shape.mtp ? 1 : 0);
  for (std::uint64_t layer = 0; layer < layer_count; ++layer) {
    const std::string prefix = fmt::format("model.layers.{}.", layer);
    append_attention_tensors(prefix, shape, true, tensors);
    if (layer < shape.dense_layers)
      append_mlp_tensors(prefix + "mlp.", shape.intermediate, shape.hidden, tensors);
    else
      append_moe_tensors(prefix, shape, tensors);
    if (layer == shape.layers) append_mtp_tensors(prefix, shape, tensors);
  }
  sort_by_name(tensors);
  return tensors;
}

nlohmann::json glm4_moe_config(const model_shape& shape, dtype type) {
  // The keys of GLM-4.5-Air's config.json; routing settings as there (sigmoid scores, one group,
  // normalised top-k weights).
  nlohmann::json config;
  config["architectures"] = {"Glm4MoeForCausalLM"};
  config["model_type"] = "glm4_moe";
  config["attention_bias"] = true;
  config["attention_dropout"] = 0.0;
  config["first_k_dense_replace"] = shape.dense_layers;
  config["head_dim"] = shape.head_dim();
  config["hidden_act"] = "silu";
  config["hidden_size"] = shape.hidden;
  config["initializer_range"] = 0.02;
  config["intermediate_size"] = shape.intermediate;
  config["max_position_embeddings"] = 2048;
  config["moe_intermediate_size"] = shape.expert_intermediate;
  config["n_group"] = 1;
  config["n_routed_experts"] = shape.experts;
  config["n_shared_experts"] = shape.shared_experts;
  config["norm_topk_prob"] = true;
  config["num_attention_heads"] = shape.heads;
  config["num_experts_per_tok"] = experts_per_token(shape);
  config["num_hidden_layers"] = shape.layers;
  config["num_key_value_heads"] = shape.kv_heads;
  config["num_nextn_predict_layers"] = shape.mtp ? 1 : 0;
  config["partial_rotary_factor"] = 0.5;
  config["rms_norm_eps"] = 1e-5;
  config["rope_theta"] = 1000000.0;
  config["routed_scaling_factor"] = 1.0;
  config["tie_word_embeddings"] = shape.tie_embeddings;
  config["topk_group"] = 1;
  config["torch_dtype"] = std::string(torch_dtype_name(type));
  config["use_qk_norm"] = false;
  config["vocab_size"] = shape.vocab;
  return config;
}

std::vector<tensor_spec> model_tensors(const model_shape& shape) {
  return shape.is_moe() ? glm4_moe_tensors(shape) : llama_tensors(shape);
}

nlohmann::json model_config(const model_shape& shape, dtype type) {
  return shape.is_moe() ? glm4_moe_config(shape, type) : llama_config(shape, type);
}

}  // namespace lineage::synth
