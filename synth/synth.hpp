#pragma once
// The model generator: writes real safetensors checkpoints (config.json + safetensors files, Llama
// tensor names, or GLM-4.5 (glm4_moe) names for Mixture-of-Experts models, or Mixtral names for
// models upcycled from a dense one) used as test fixtures and as the demo's model pair. Nothing
// generated is ever committed; tests and the demo call these functions (or `lineage synth`) to
// make what they need.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dtype.hpp"

namespace lineage::synth {

// The dimensions of a Llama-style decoder. head_dim = hidden / heads. With experts > 0 the model is
// a glm4_moe (GLM-4.5) Mixture-of-Experts model instead: q/k/v biases, the first dense_layers
// layers with a dense MLP of width `intermediate`, the others with `experts` routed experts and
// `shared_experts` shared ones of width `expert_intermediate`, and with `mtp` one
// multi-token-prediction block at layer index `layers`.
struct model_shape {
  std::uint64_t layers = 4;  // without the MTP block (config num_hidden_layers)
  std::uint64_t hidden = 256;
  std::uint64_t intermediate = 688;
  std::uint64_t heads = 8;
  std::uint64_t kv_heads = 4;
  std::uint64_t vocab = 2048;
  bool tie_embeddings = false;
  std::uint64_t experts = 0;  // routed experts per MoE layer; 0: a dense Llama model
  std::uint64_t expert_intermediate = 64;
  std::uint64_t shared_experts = 0;  // shared expert MLP width: shared_experts * expert_intermediate
  std::uint64_t dense_layers = 0;    // first_k_dense_replace
  bool mtp = false;

  [[nodiscard]] bool is_moe() const noexcept { return experts > 0; }

  [[nodiscard]] std::uint64_t head_dim() const noexcept { return heads == 0 ? 0 : hidden / heads; }
  // Throws usage_error when a dimension is zero, heads do not divide evenly, or an MoE setting is
  // given without --experts or does not fit the layer count.
  void validate() const;
};

// Structure that unrelated real models share although they were trained apart: the same tokens are
// frequent, special or unused in both, class priors agree, and fixed buffers are equal. All of it
// lies along axes whose labels mean the same in every model (tokens, classes, buffer entries);
// the hidden, neuron and head axes stay unrelated (their directions come from the model's own
// seed). Drawn from shared_seed; every option needs it. The defaults change nothing. See
// structure_values.hpp for the distributions.
struct shared_structure {
  std::optional<std::uint64_t> shared_seed;
  bool token_profile = false;        // Zipf-like token frequencies: row norms and a top direction
  std::uint64_t special_tokens = 0;  // ids whose embedding and lm_head rows are ~20x larger
  std::uint64_t unused_tokens = 0;   // ids whose rows stay at the N(0, 0.02^2) initialisation
  std::uint64_t classes = 0;         // a score head [classes, hidden] with a shared class prior
  bool constant_buffers = false;     // rotary inv_freq per layer and a DCT basis, bit-identical
  double gate_up = 0.0;              // within-neuron correlation of gate_proj and up_proj rows

  // True when some option asks for shared structure (shared_seed alone asks for none).
  [[nodiscard]] bool any() const noexcept {
    return token_profile || special_tokens > 0 || unused_tokens > 0 || classes > 0 || constant_buffers ||
           gate_up != 0.0;
  }
};

struct write_options {
  dtype type = dtype::bf16;
  std::uint32_t shards = 1;  // 1: model.safetensors; N > 1: model-0000K-of-0000N + index
  // Independent models only: Pearson correlation between norm weights of different layers of one
  // model (real models show 0.46-0.77). 0 draws every norm tensor independently.
  double layer_correlation = 0.0;
  // Independent models only: the seed of the tokenizer.json written beside the model
  // (synth/tokenizer_generator.hpp); one seed, one tokenizer, whatever the model's seed.
  std::uint64_t tokenizer_seed = 1;
  shared_structure structure{};  // independent models only
};

// drop_layers and duplicate_layers change the depth (layer pruning; depth up-scaling, as SOLAR was
// built from Mistral) and copy every value bit for bit; chain a drift derivation to fine-tune after.
// permute_experts reorders the routed experts of every MoE layer (with the router rows), so the
// child computes exactly the parent's function under other expert indices; drop_experts prunes
// routed experts. Both copy values bit for bit too.
// The disguises keep the parent's function while hiding the alignment of its weights:
// permute_neurons, permute_heads and permute_hidden permute MLP neurons, attention heads (within
// GQA groups) and the residual dimension, copying values bit for bit; rescale_norms moves a
// positive factor per element between each RMSNorm weight and the linear layers that read it;
// extend_vocab appends embedding rows; upcycle turns a dense Llama parent into a Mixtral MoE
// model whose experts are copies of each layer's MLP; fold_norms multiplies every RMSNorm weight into
// the linear layers that read it and sets the norm to 1; rotate_hidden folds the norms, then turns
// the residual stream by a random orthogonal matrix wherever it is read or written (as QuaRot and
// SpinQuant do), so no weight is element-aligned with the parent's any more.
enum class derivation_kind {
  copy,
  noise,
  drift,
  dtype_change,
  reshard,
  drop_layers,
  duplicate_layers,
  permute_experts,
  drop_experts,
  permute_neurons,
  permute_heads,
  permute_hidden,
  prune_hidden,
  flip_hidden,
  rescale_norms,
  extend_vocab,
  upcycle,
  fold_norms,
  rotate_hidden
};

// rotate_hidden's matrix Q (hidden x hidden): orthogonal, Haar-distributed (QR of a Gaussian
// matrix); hadamard, a randomized Hadamard matrix H diag(s) / sqrt(n) (n a power of two).
enum class hidden_rotation_kind { orthogonal, hadamard };

// Sets `count` evenly spaced elements of `tensor` to NaN, +Inf, NaN, ... (to test non-finite
// counts).
struct nonfinite_injection {
  std::string tensor;
  std::uint64_t count = 0;
};

struct derivation {
  derivation_kind kind = derivation_kind::copy;
  // Relative size of the change; defaults: noise 0.01, drift 0.05; rescale_norms: the spread X of
  // the log factors (s = exp(X z)), 0.5.
  std::optional<double> scale;
  std::uint64_t seed = 1;
  std::optional<dtype> type;            // output dtype; default: each tensor keeps the parent's
  std::optional<std::uint32_t> shards;  // default: the parent's file count
  std::vector<nonfinite_injection> injections;  // tensor names of the derived model
  // drop_layers: the parent's decoder layers to leave out; duplicate_layers: the layers to repeat
  // right after themselves. The remaining layers are renumbered 0.. in order. An MTP block stays
  // last, renumbered to the child's layer count.
  std::vector<std::uint64_t> layers;
  // drop_experts: the routed experts to remove from every MoE layer; the rest are renumbered 0..
  // in order. (The command line's --experts E of upcycle goes to expert_count.)
  std::vector<std::uint64_t> experts;
  std::optional<std::uint64_t> tokens;        // extend_vocab: rows appended to the vocabulary
  std::optional<std::uint64_t> expert_count;  // upcycle: experts per MoE layer
  std::optional<double> noise;  // upcycle: relative noise added to each expert copy (0.01)
  std::optional<hidden_rotation_kind> rotation;  // rotate_hidden: the matrix (orthogonal)
};

// What was written, for the one-line summary of the command.
struct written_model {
  std::uint64_t tensor_count = 0;
  std::uint64_t parameter_count = 0;
  std::uint64_t data_bytes = 0;  // sum of tensor bytes (the index's total_size)
  std::uint32_t file_count = 0;
};

// A new model with values drawn from `seed` (see independent_values.hpp for the distributions) and
// a byte-level BPE tokenizer.json of shape.vocab pieces from options.tokenizer_seed.
// Creates `out` if needed; replaces an earlier model written there.
written_model write_independent_model(const model_shape& shape, std::uint64_t seed,
                                      const std::filesystem::path& out,
                                      const write_options& options);

// A model derived from the synth-written model in `from`. Its tokenizer.json is the parent's
// (when the parent has one); extend_vocab appends a new piece per new embedding row. Throws usage_error for options that do
// not fit the kind, input_error when `from` is not a readable model.
written_model write_derived_model(const std::filesystem::path& from,
                                  const std::filesystem::path& out, const derivation& how);

[[nodiscard]] std::string_view derivation_kind_name(derivation_kind kind) noexcept;
[[nodiscard]] std::optional<derivation_kind> parse_derivation_kind(std::string_view name) noexcept;
[[nodiscard]] std::string_view hidden_rotation_name(hidden_rotation_kind kind) noexcept;
[[nodiscard]] std::optional<hidden_rotation_kind> parse_hidden_rotation(std::string_view name) noexcept;

}  // namespace lineage::synth
