#pragma once
// fold-norms: RMSNorm computes g * x / rms(x) and a linear layer W reads it, so W diag(g) reading
// x / rms(x) computes the same; every norm weight g is multiplied into the columns of the layers
// that read it (norm_readers.hpp) and set to exactly 1, as QuaRot and SpinQuant do before rotating.
// Biases are added after W and stay. A model with tied embeddings is untied first (lm_head becomes
// a copy of embed_tokens, then takes the final norm; the embedding itself is read before any norm),
// and an MTP block whose shared_head.norm feeds the shared lm_head gets its own shared_head.head (a
// copy of lm_head, as GLM-4.5 and DeepSeek-V3 checkpoints store it), which takes shared_head.norm.
// A norm no linear layer reads (none in synth's layouts; the per-head q_norm/k_norm are not hidden
// norms) is kept as it is and listed in the provenance.
#include <vector>

#include "synth/derive_plan.hpp"
#include "synth/model_reader.hpp"

namespace lineage::synth {

// Plans the folding on `planned` (one for one with the parent's tensors; new heads are added in
// name order); `option` names the kind in errors. Throws usage_error when the parent has no norm.
derivation_record fold_every_norm(const stored_model& parent, std::vector<child_tensor>& planned, const char* option);

}  // namespace lineage::synth
