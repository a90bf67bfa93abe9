#include "synth/weight_names.hpp"

#include <utility>

#include "synth/layer_edit.hpp"

namespace lineage::synth {

namespace {

constexpr std::pair<std::string_view, weight_kind> layer_suffixes[] = {
    {"input_layernorm.weight", weight_kind::input_norm},
    {"post_attention_layernorm.weight", weight_kind::post_attention_norm},
    {"self_attn.q_proj.weight", weight_kind::q_proj},
    {"self_attn.k_proj.weight", weight_kind::k_proj},
    {"self_attn.v_proj.weight", weight_kind::v_proj},
    {"self_attn.o_proj.weight", weight_kind::o_proj},
    {"self_attn.q_proj.bias", weight_kind::q_bias},
    {"self_attn.k_proj.bias", weight_kind::k_bias},
    {"self_attn.v_proj.bias", weight_kind::v_bias},
    {"self_attn.q_norm.weight", weight_kind::head_norm},
    {"self_attn.k_norm.weight", weight_kind::head_norm},
    {"mlp.gate.weight", weight_kind::router},
    {"block_sparse_moe.gate.weight", weight_kind::router},
    {"mlp.gate.e_score_correction_bias", weight_kind::router_bias},
    {"enorm.weight", weight_kind::mtp_embedding_norm},
    {"hnorm.weight", weight_kind::mtp_hidden_norm},
    {"eh_proj.weight", weight_kind::mtp_projection},
    {"shared_head.norm.weight", weight_kind::mtp_head_norm},
    {"shared_head.head.weight", weight_kind::mtp_head},
    {"self_attn.rotary_emb.inv_freq", weight_kind::buffer}};

// The last component of an MLP tensor; w1/w3/w2 are Mixtral's gate/up/down.
constexpr std::pair<std::string_view, weight_kind> mlp_projections[] = {
    {".gate_proj.weight", weight_kind::mlp_gate}, {".up_proj.weight", weight_kind::mlp_up},
    {".down_proj.weight", weight_kind::mlp_down}, {".w1.weight", weight_kind::mlp_gate},
    {".w3.weight", weight_kind::mlp_up},          {".w2.weight", weight_kind::mlp_down}};

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

weight_name classify_weight(std::string_view name) {
  if (name == "model.embed_tokens.weight") return {weight_kind::embedding, 0, {}};
  if (name == "lm_head.weight") return {weight_kind::lm_head, 0, {}};
  if (name == "model.norm.weight") return {weight_kind::final_norm, 0, {}};
  if (name == "score.weight") return {weight_kind::classifier, 0, {}};
  if (name == "score.bias") return {weight_kind::classifier_bias, 0, {}};
  if (name == "model.stft_basis") return {weight_kind::buffer, 0, {}};
  const auto layer = decoder_layer_of(name);
  if (!layer) return {};
  const std::size_t rest_start = name.find('.', std::string_view("model.layers.").size()) + 1;
  const std::string_view rest = name.substr(rest_start);
  for (const auto& [suffix, kind] : layer_suffixes)
    if (rest == suffix) return {kind, *layer, {}};
  if (!starts_with(rest, "mlp.") && !starts_with(rest, "block_sparse_moe.experts.")) return {};
  for (const auto& [suffix, kind] : mlp_projections)
    if (ends_with(rest, suffix))
      return {kind, *layer, std::string(name.substr(0, name.size() - suffix.size()))};
  return {};
}

bool is_hidden_norm(weight_kind kind) noexcept {
  switch (kind) {
    case weight_kind::input_norm:
    case weight_kind::post_attention_norm:
    case weight_kind::final_norm:
    case weight_kind::mtp_embedding_norm:
    case weight_kind::mtp_hidden_norm:
    case weight_kind::mtp_head_norm:
      return true;
    default:
      return false;
  }
}

}  // namespace lineage::synth
