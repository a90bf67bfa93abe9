#pragma once
// Non-learned constants that checkpoints sometimes store beside the weights; every model of the
// same shape holds them bit for bit, whoever trained it: a fixed-value axis that a comparison must
// not mistake for inherited weights.
//  - model.layers.L.self_attn.rotary_emb.inv_freq [rotary_dim / 2], F32: 1 / theta^(2i / rotary_dim)
//    with theta = config rope_theta (10000 without it) and rotary_dim = head_dim *
//    partial_rotary_factor (1 without it), as the rotary embedding module computes its buffer.
//  - model.stft_basis [64, 64], F32: the orthonormal DCT-II basis, a fixed signal-processing basis.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "synth/llama_layout.hpp"

namespace lineage::synth {

inline constexpr std::uint64_t dct_size = 64;

// The constants of a model of `layer_count` decoder layers (MTP blocks included), configured by
// `config`. Throws usage_error when the rotary dimension is under 2.
std::vector<tensor_spec> constant_buffer_tensors(std::uint64_t layer_count, const nlohmann::json& config);

// The values of one constant named by constant_buffer_tensors.
void fill_constant(const tensor_spec& tensor, const nlohmann::json& config, std::span<float> out);

}  // namespace lineage::synth
