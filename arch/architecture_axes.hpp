#pragma once
// What the axes of a tensor mean, so that a null distribution permutes only the axes whose labels
// are arbitrary.
//
// Under "B was trained independently of A", B's law is invariant under the symmetries of its
// architecture: a permutation of the residual (hidden) dimensions applied to every tensor at once,
// of the neurons of one MLP, of whole attention heads (with their KV groups), of the dimensions
// inside a head where nothing (RoPE) gives them a meaning, of the experts of an MoE layer, of the
// units of a low-rank bottleneck — initialisation is exchangeable along these axes and training is
// equivariant to them. Axes whose units mean the same thing in every model (tokens, positions,
// output classes, RoPE frequencies, fixed buffers) carry structure that unrelated models share, and
// are never permuted. configs/architectures/*.yaml give each canonical role its axes (`axes:`);
// models of unknown type get theirs from plan/plan_axes.cpp.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lineage {

enum class axis_kind : std::uint8_t {
  unknown,   // no known meaning: never permuted
  hidden,    // the residual stream; one permutation for the whole model
  neuron,    // units of one MLP (rows of gate/up, columns of down, its biases)
  query,     // query heads × their dimensions (rows of q, its bias; MLA: q_b, kv_b, o columns)
  key,       // KV heads × their dimensions (rows of k, its bias)
  value,     // KV heads × their value dimensions (rows of v, its bias)
  output,    // query heads × value dimensions (columns of o)
  expert,    // experts of one MoE layer (rows of the router, the score-correction bias)
  latent,    // a low-rank bottleneck of one layer read through its own norm (MLA q_lora)
  channel,   // an internal axis inferred by shape chaining in a model of unknown type
  vocab,     // tokens: shared meaning, never permuted
  position,  // positions: shared meaning
  classes,   // output classes or coordinates of a task head: shared meaning
  head_dim,  // the dimensions inside a RoPE head (q_norm/k_norm): paired with fixed frequencies
  constant,  // a fixed, non-learned buffer
};

[[nodiscard]] std::string_view axis_kind_name(axis_kind kind) noexcept;
[[nodiscard]] std::optional<axis_kind> parse_axis_kind(std::string_view name) noexcept;

// The kinds a null may permute (hidden through channel).
[[nodiscard]] constexpr bool is_symmetric(axis_kind kind) noexcept {
  return kind >= axis_kind::hidden && kind <= axis_kind::channel;
}

// What the units of a non-symmetric axis are, for the report ("tokens", "classes", ...).
[[nodiscard]] std::string_view axis_meaning(axis_kind kind) noexcept;

// "[vocab, hidden]".
[[nodiscard]] std::string axes_text(const std::vector<axis_kind>& axes);

}  // namespace lineage
