#pragma once
// Depth edits of a derivation (drop-layers, duplicate-layers): which parent layer each layer of the
// child copies, and the renumbered tensor names. Values are copied, never changed, so a test can
// hold every child tensor against the parent layer it came from.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "synth/synth.hpp"

namespace lineage::synth {

// True for the kinds that change the number of decoder layers.
[[nodiscard]] bool edits_layers(derivation_kind kind) noexcept;

// The decoder layer of a tensor ("model.layers.12.mlp.up_proj.weight" -> 12); nullopt for tensors
// outside the layers (embeddings, final norm, lm_head).
[[nodiscard]] std::optional<std::uint64_t> decoder_layer_of(std::string_view name);

// `name` (which must be a decoder-layer tensor) with its layer index replaced by `layer`.
[[nodiscard]] std::string with_decoder_layer(std::string_view name, std::uint64_t layer);

// For each layer of the child, in order, the parent layer it copies: drop-layers leaves the listed
// layers out, duplicate-layers repeats each listed layer right after itself (depth up-scaling).
// Throws usage_error when the list is empty, names a layer twice or past the parent's last layer,
// or would drop every layer.
[[nodiscard]] std::vector<std::uint64_t> child_layer_sources(derivation_kind kind,
                                                             std::uint64_t parent_layers,
                                                             std::span<const std::uint64_t> layers);

}  // namespace lineage::synth
