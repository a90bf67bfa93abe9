#include "synth/llama_layout.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"
#include "synth/moe_layout.hpp"
#include "synth/value_codec.hpp"

namespace lineage::synth {

void model_shape::validate() const {
  const std::pair<const char*, std::uint64_t> dimensions[] = {
      {"--layers", layers}, {"--hidden", hidden},     {"--intermediate", intermediate},
      {"--heads", heads},   {"--kv-heads", kv_heads}, {"--vocab", vocab}};
  for (const auto& [option, value] : dimensions)
    if (value == 0) throw usage_error(fmt::format("synth: {} must be at least 1", option));
  if (hidden % heads != 0)
    throw usage_error(
        fmt::format("synth: --hidden {} is not a multiple of --heads {}", hidden, heads));
  if (heads % kv_heads != 0)
    throw usage_error(
        fmt::format("synth: --heads {} is not a multiple of --kv-heads {}", heads, kv_heads));
  validate_moe_shape(*this);
}

void append_attention_tensors(const std::string& prefix, const model_shape& shape, bool with_bias,
                              std::vector<tensor_spec>& tensors) {
  const std::uint64_t q_rows = shape.heads * shape.head_dim();
  const std::uint64_t kv_rows = shape.kv_heads * shape.head_dim();
  auto add = [&](const char* suffix, std::vector<std::uint64_t> dims, tensor_role role) {
    tensors.push_back({prefix + suffix, std::move(dims), role, std::nullopt});
  };
  add("input_layernorm.weight", {shape.hidden}, tensor_role::norm);
  add("post_attention_layernorm.weight", {shape.hidden}, tensor_role::norm);
  add("self_attn.q_proj.weight", {q_rows, shape.hidden}, tensor_role::matrix);
  add("self_attn.k_proj.weight", {kv_rows, shape.hidden}, tensor_role::matrix);
  add("self_attn.v_proj.weight", {kv_rows, shape.hidden}, tensor_role::matrix);
  add("self_attn.o_proj.weight", {shape.hidden, q_rows}, tensor_role::matrix);
  if (!with_bias) return;
  add("self_attn.q_proj.bias", {q_rows}, tensor_role::bias);
  add("self_attn.k_proj.bias", {kv_rows}, tensor_role::bias);
  add("self_attn.v_proj.bias", {kv_rows}, tensor_role::bias);
}

void append_mlp_tensors(const std::string& prefix, std::uint64_t width, std::uint64_t hidden,
                        std::vector<tensor_spec>& tensors) {
  tensors.push_back({prefix + "gate_proj.weight", {width, hidden}, tensor_role::matrix, {}});
  tensors.push_back({prefix + "up_proj.weight", {width, hidden}, tensor_role::matrix, {}});
  tensors.push_back({prefix + "down_proj.weight", {hidden, width}, tensor_role::matrix, {}});
}

void append_global_tensors(const model_shape& shape, std::vector<tensor_spec>& tensors) {
  tensors.push_back(
      {"model.embed_tokens.weight", {shape.vocab, shape.hidden}, tensor_role::embedding, {}});
  tensors.push_back({"model.norm.weight", {shape.hidden}, tensor_role::norm, {}});
  if (!shape.tie_embeddings)
    tensors.push_back({"lm_head.weight", {shape.vocab, shape.hidden}, tensor_role::matrix, {}});
}

void sort_by_name(std::vector<tensor_spec>& tensors) {
  std::sort(tensors.begin(), tensors.end(),
            [](const tensor_spec& a, const tensor_spec& b) { return a.name < b.name; });
}

std::vector<tensor_spec> llama_tensors(const model_shape& shape) {
  std::vector<tensor_spec> tensors;
  append_global_tensors(shape, tensors);
  for (std::uint64_t layer = 0; layer < shape.layers; ++layer) {
    const std::string prefix = fmt::format("model.layers.{}.", layer);
    append_attention_tensors(prefix, shape, false, tensors);
    append_mlp_tensors(prefix + "mlp.", shape.intermediate, shape.hidden, tensors);
  }
  sort_by_name(tensors);
  return tensors;
}

nlohmann::json llama_config(const model_shape& shape, dtype type) {
  nlohmann::json config;
  config["architectures"] = {"LlamaForCausalLM"};
  config["model_type"] = "llama";
  config["hidden_size"] = shape.hidden;
  config["intermediate_size"] = shape.intermediate;
  config["num_hidden_layers"] = shape.layers;
  config["num_attention_heads"] = shape.heads;
  config["num_key_value_heads"] = shape.kv_heads;
  config["head_dim"] = shape.head_dim();
  config["vocab_size"] = shape.vocab;
  config["max_position_embeddings"] = 2048;
  config["rms_norm_eps"] = 1e-5;
  config["rope_theta"] = 10000.0;
  config["hidden_act"] = "silu";
  config["tie_word_embeddings"] = shape.tie_embeddings;
  config["torch_dtype"] = std::string(torch_dtype_name(type));
  return config;
}

}  // namespace lineage::synth
