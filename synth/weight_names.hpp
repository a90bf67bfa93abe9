#pragma once
// What a tensor of a synth-written model is, from its name: the Llama, glm4_moe and Mixtral names
// (DESIGN.md section 4) that the function-preserving derivations must tell apart, because each
// of them moves a different dimension (neurons, heads, the residual) of each role.
#include <cstdint>
#include <string>
#include <string_view>

namespace lineage::synth {

enum class weight_kind {
  embedding,            // model.embed_tokens.weight [vocab, hidden]
  lm_head,              // lm_head.weight [vocab, hidden]
  final_norm,           // model.norm.weight
  input_norm,           // input_layernorm, read by q/k/v
  post_attention_norm,  // post_attention_layernorm, read by the MLP (or router and experts)
  q_proj,
  k_proj,
  v_proj,
  o_proj,
  q_bias,
  k_bias,
  v_bias,
  head_norm,           // self_attn.{q,k}_norm: over head_dim, inside each head
  mlp_gate,            // gate_proj or Mixtral w1 of a dense MLP, routed expert or shared expert
  mlp_up,              // up_proj or w3
  mlp_down,            // down_proj or w2
  router,              // mlp.gate.weight or block_sparse_moe.gate.weight [experts, hidden]
  router_bias,         // mlp.gate.e_score_correction_bias [experts]
  mtp_embedding_norm,  // enorm: normalises the next token's embedding
  mtp_hidden_norm,     // hnorm: normalises the main stack's hidden state
  mtp_projection,      // eh_proj [hidden, 2 hidden]: reads [enorm(e); hnorm(h)]
  mtp_head_norm,       // shared_head.norm: read by shared_head.head, or by lm_head without one
  mtp_head,            // shared_head.head [vocab, hidden]: the MTP block's own copy of lm_head
  classifier,          // score.weight [classes, hidden]: reads the final norm, like lm_head
  classifier_bias,     // score.bias [classes]
  buffer,              // fixed constants (self_attn.rotary_emb.inv_freq, model.stft_basis)
  other
};

struct weight_name {
  weight_kind kind = weight_kind::other;
  std::uint64_t layer = 0;  // for tensors of a decoder layer
  // mlp_gate, mlp_up, mlp_down: the MLP they belong to, e.g. "model.layers.3.mlp",
  // "model.layers.5.mlp.experts.2", "model.layers.5.mlp.shared_experts",
  // "model.layers.5.block_sparse_moe.experts.2".
  std::string mlp;
};

[[nodiscard]] weight_name classify_weight(std::string_view name);

// True for the norms over the hidden dimension (input, post-attention, final, and the MTP
// block's enorm, hnorm and shared_head.norm).
[[nodiscard]] bool is_hidden_norm(weight_kind kind) noexcept;

}  // namespace lineage::synth
