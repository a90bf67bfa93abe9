#pragma once
// The values of an independent model with shared structure (synth.hpp, shared_structure), drawn
// on top of independent_values.hpp. What models of one shared seed share comes from
// token_structure.hpp; every direction in hidden space comes from the model's own seed.
//  - Vocabulary tensors (embed_tokens and lm_head; only embed_tokens when tied), row v:
//    * --unused-tokens: the trained rows are scaled to an element sd of 4 x 0.02; the unused rows
//      are fresh N(0, 0.02^2) draws, the initialisation they never left.
//    * --token-profile: each trained row is scaled by m_v = exp(0.6 (z_v - median z)) (1 for the
//      median token), then alpha z_v u is added, u a unit vector of the model's own seed
//      and alpha 10 x the rows' element sd: the frequency direction, which stands out as the top
//      principal component of the ordinary rows (special tokens' rows are outliers of their own).
//    * --special-tokens: the row is an own-seed direction of 20 x the RMS norm of the ordinary
//      rows (neither special nor unused).
//  - score.weight (--classes): row c = class_scales[c] / sqrt(hidden) x own N(0, 1); score.bias =
//    the shared class prior + own N(0, 0.05^2).
//  - up_proj of every MLP (dense, routed and shared experts) with --gate-up R: row i = R g_i
//    rms(u_i) / rms(g_i) + sqrt(1 - R^2) u_i, g_i the gate_proj row and u_i the up_proj row drawn
//    as without the option; so gate and up rows of one neuron correlate about R.
//  - constants: constant_buffers.hpp.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "synth/independent_values.hpp"
#include "synth/llama_layout.hpp"
#include "synth/synth.hpp"
#include "synth/token_structure.hpp"

namespace lineage::synth {

class structured_draw {
 public:
  // Keeps copies of what it needs; `config` is the model's config.json (rope settings).
  structured_draw(const model_shape& shape, const shared_structure& structure, const independent_draw& draw,
                  nlohmann::json config);

  // Fills `out` (element_count of `tensor`): exactly draw_independent_values when no structure
  // option touches the tensor.
  void fill(const tensor_spec& tensor, std::span<float> out) const;

 private:
  void shape_vocabulary(const tensor_spec& tensor, std::span<float> out) const;
  void apply_profile(std::size_t columns, double sigma, std::span<float> out) const;
  void draw_unused_rows(const tensor_spec& tensor, std::span<float> out) const;
  void draw_special_rows(const tensor_spec& tensor, std::span<float> out) const;
  void draw_classifier(const tensor_spec& tensor, std::span<float> out) const;
  void mix_gate_into_up(const tensor_spec& up, std::span<float> out) const;

  shared_structure structure_;
  independent_draw draw_;
  nlohmann::json config_;
  token_structure tokens_;
};

}  // namespace lineage::synth
