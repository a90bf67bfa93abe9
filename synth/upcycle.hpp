#pragma once
// upcycle: a Mixture-of-Experts model grown from a dense Llama parent (sparse upcycling), in the
// Mixtral layout of configs/architectures/mixtral.yaml. Every expert of a layer starts as a copy
// of that layer's dense MLP (w1 = gate, w3 = up, w2 = down) with small independent noise, and the
// router is new. With the noise at 0 every expert is the MLP, so any top-k mixture with weights
// summing to 1 computes the parent's function.
#include <cstdint>
#include <span>
#include <vector>

#include "synth/derive_plan.hpp"
#include "synth/model_reader.hpp"
#include "synth/safetensors_writer.hpp"
#include "synth/synth.hpp"

namespace lineage::synth {

struct upcycle_plan {
  std::vector<child_tensor> tensors;  // sorted by name; routers have no source
  derivation_record record;
};

// Throws usage_error when the parent is not a dense model (an MoE parent, or layers without a
// dense MLP); `noise` is the checked --noise.
upcycle_plan plan_upcycle(const stored_model& parent, const derivation& how, double noise);

// A new router's values: row r ~ N(0, sigma_r^2), sigma_r = exp(0.2 g) / sqrt(hidden), as an
// independent model's matrices, from the stream of (seed, router name).
void draw_router(const output_tensor& router, std::uint64_t seed, std::span<float> out);

}  // namespace lineage::synth
