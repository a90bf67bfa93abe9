#pragma once
// Values of a freshly "trained" model, shaped like real checkpoints in the ways that matter to
// derivation tests:
//  - norm weights: positive, mean m ~ U(0.6, 1.4), coefficient of variation cv ~ U(0.05, 0.2) per
//    tensor, value = m (1 + cv z). Two unrelated models then have raw cosine > 0.95 but Pearson ~
//    0, the trap the comparison must not fall into. With layer_correlation R > 0, z mixes a profile
//    shared by all norm tensors of the model (weight sqrt(R)), so layers of one model correlate
//    (about R), as layers of real models do (0.46-0.77), while different seeds stay unrelated.
//  - matrices: N(0, s^2) with s = exp(0.2 g) / sqrt(fan_in) per row, so rows differ in norm;
//    embeddings the same with 0.02 in place of 1 / sqrt(fan_in). A router is a matrix [experts,
//    hidden], so every expert's routing row gets its own scale.
//  - biases (attention q/k/v, the router's e_score_correction_bias): N(0, 0.02^2), centred on 0
//    so unrelated models' biases have neither cosine nor Pearson.
#include <cstdint>
#include <span>

#include "synth/llama_layout.hpp"

namespace lineage::synth {

struct independent_draw {
  std::uint64_t seed = 0;
  double layer_correlation = 0.0;  // in [0, 1)
};

// Fills `out` (element_count of `tensor`) from the stream of (seed, tensor name): independent of
// the order in which tensors are drawn.
void draw_independent_values(const tensor_spec& tensor, const independent_draw& draw,
                             std::span<float> out);

}  // namespace lineage::synth
