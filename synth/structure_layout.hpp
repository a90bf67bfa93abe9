#pragma once
// The tensors and config.json keys that the shared-structure options (synth.hpp,
// shared_structure) add to an independent model, and the checks of those options.
#include <nlohmann/json.hpp>
#include <vector>

#include "synth/llama_layout.hpp"
#include "synth/synth.hpp"

namespace lineage::synth {

// Throws usage_error for an option given without --shared-seed, special and unused tokens that
// leave no ordinary token, or --gate-up outside [0, 1).
void validate_structure(const shared_structure& structure, const model_shape& shape);

// Appends score.weight [classes, hidden] and score.bias [classes] (--classes), every layer's
// rotary inv_freq and model.stft_basis (--constant-buffers), then sorts by name; adds num_labels
// to `config` with --classes. Does nothing without these options.
void add_structure_tensors(const shared_structure& structure, const model_shape& shape, nlohmann::json& config,
                           std::vector<tensor_spec>& tensors);

// The options, for the "lineage_synth" provenance block.
[[nodiscard]] nlohmann::json structure_provenance(const shared_structure& structure);

}  // namespace lineage::synth
