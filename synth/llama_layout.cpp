#include "synth/llama_layout.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"
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
}

std::vector<tensor_spec> llama_tensors(const model_shape& shape) {
  const std::uint64_t q_rows = shape.heads * shape.head_dim();
  const std::uint64_t kv_rows = shape.kv_heads * shape.head_dim();
  std::vector<tensor_spec> tensors;
  tensors.push_back(
      {"model.embed_tokens.weight", {shape.vocab, shape.hidden}, tensor_role::embedding});
  for (std::uint64_t layer = 0; layer < shape.layers; ++layer) {
    const std::string prefix = fmt::format("model.layers.{}.", layer);
    auto add = [&](const char* suffix, std::vector<std::uint64_t> dims, tensor_role role) {
      tensors.push_back({prefix + suffix, std::move(dims), role});
    };
    add("input_layernorm.weight", {shape.hidden}, tensor_role::norm);
    add("post_attention_layernorm.weight", {shape.hidden}, tensor_role::norm);
    add("self_attn.q_proj.weight", {q_rows, shape.hidden}, tensor_role::matrix);
    add("self_attn.k_proj.weight", {kv_rows, shape.hidden}, tensor_role::matrix);
    add("self_attn.v_proj.weight", {kv_rows, shape.hidden}, tensor_role::matrix);
    add("self_attn.o_proj.weight", {shape.hidden, q_rows}, tensor_role::matrix);
    add("mlp.gate_proj.weight", {shape.intermediate, shape.hidden}, tensor_role::matrix);
    add("mlp.up_proj.weight", {shape.intermediate, shape.hidden}, tensor_role::matrix);
    add("mlp.down_proj.weight", {shape.hidden, shape.intermediate}, tensor_role::matrix);
  }
  tensors.push_back({"model.norm.weight", {shape.hidden}, tensor_role::norm});
  if (!shape.tie_embeddings)
    tensors.push_back({"lm_head.weight", {shape.vocab, shape.hidden}, tensor_role::matrix});
  std::sort(tensors.begin(), tensors.end(),
            [](const tensor_spec& a, const tensor_spec& b) { return a.name < b.name; });
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
