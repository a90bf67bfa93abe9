#pragma once
// Where the residual stream (the hidden dimension) runs in each tensor of a synth-written model:
// the walk that permute-hidden, flip-hidden, prune-hidden and rotate-hidden share. Readers of the
// residual (embedding, lm_head, q/k/v, gate/up, routers, the MTP head, the score head) carry it on
// their columns, writers (o_proj, down_proj) on their rows, norm vectors on their elements, and
// eh_proj on its rows and on both halves of its columns.
#include <cstdint>
#include <functional>
#include <vector>

#include "synth/derive_plan.hpp"
#include "synth/model_reader.hpp"

namespace lineage::synth {

// The hidden size: the embedding's columns, checked against config.json hidden_size. Throws
// usage_error when the parent has no embedding matrix, input_error when config.json disagrees.
std::uint64_t residual_width(const stored_model& parent, const char* option);

// Called for every planned tensor the residual runs through, with the lists its rows and its
// columns take from `dims` (empty: that axis is not the residual; eh_proj's columns take `dims`
// for both of its halves, the second shifted by the hidden size) and whether it is a norm vector.
using residual_placement = std::function<void(child_tensor& tensor, const std::vector<std::uint64_t>& rows,
                                              const std::vector<std::uint64_t>& columns, bool norm)>;

// Checks every planned tensor's residual extent against `hidden`; throws input_error for a tensor
// whose name does not say where the residual runs (moving around it would silently change the
// function).
void walk_residual(const stored_model& parent, std::vector<child_tensor>& planned, std::uint64_t hidden,
                   const std::vector<std::uint64_t>& dims, const char* option, const residual_placement& place);

}  // namespace lineage::synth
