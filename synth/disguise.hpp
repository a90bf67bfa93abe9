#pragma once
// The derivations that disguise a model while keeping its function. Each plans, for the child's
// tensors (one for one with the parent's), which rows and columns move, which parts are scaled or
// grow, and what config.json records; child_values.hpp then produces the values.
//  - permute-neurons: per MLP (dense, each routed expert, the shared expert) a permutation of the
//    intermediate neurons: rows of gate and up, columns of down.
//  - permute-heads: per layer a permutation of the KV heads, the query-head groups moving with
//    them, and of the query heads within each group (GQA keeps query head h on KV head h / G).
//  - permute-hidden: one permutation of the residual dimension, wherever it appears.
//  - flip-hidden: a seeded half of the residual dimensions change sign wherever they are read or
//    written (RMSNorm does not see signs; its weight stays).
//  - prune-hidden: a seeded fraction (--scale) of the residual dimensions removed everywhere; the
//    one planner here that changes the function (width pruning is a derivation, not a disguise).
//  - rescale-norms: positive factors moved from each RMSNorm weight into the linear layers that
//    read it.
//  - extend-vocab: new embedding (and lm_head) rows after the old ones.
//  - fold-norms: every RMSNorm weight multiplied into the layers that read it and set to 1.
//  - rotate-hidden: fold-norms, then one random orthogonal matrix applied to the residual stream
//    wherever it is read or written.
// All work on dense Llama, glm4_moe (MTP block included) and Mixtral models.
#include <vector>

#include "synth/derive_plan.hpp"
#include "synth/model_reader.hpp"
#include "synth/synth.hpp"

namespace lineage::synth {

// True for the kinds above.
[[nodiscard]] bool disguises(derivation_kind kind) noexcept;

// Plans the disguise `how.kind` on `planned` (as plan_tensors made it: one for one with the
// parent's tensors); `strength` is the kind's checked --scale. Throws usage_error when the parent
// does not fit the kind (e.g. heads that do not divide), input_error when its tensors contradict
// each other or config.json.
derivation_record plan_disguise(const stored_model& parent, const derivation& how, double strength,
                                std::vector<child_tensor>& planned);

// The planners plan_disguise chooses from (neuron_permutation.cpp, head_permutation.cpp,
// hidden_permutation.cpp, norm_rescaling.cpp, norm_folding.cpp, rotate_hidden.cpp,
// vocab_extension.cpp).
derivation_record plan_neuron_permutation(const stored_model& parent, const derivation& how,
                                          std::vector<child_tensor>& planned);
derivation_record plan_head_permutation(const stored_model& parent, const derivation& how,
                                        std::vector<child_tensor>& planned);
derivation_record plan_hidden_permutation(const stored_model& parent, const derivation& how,
                                          std::vector<child_tensor>& planned);
derivation_record plan_hidden_pruning(const stored_model& parent, const derivation& how, double fraction,
                                      std::vector<child_tensor>& planned);
derivation_record plan_hidden_sign_flips(const stored_model& parent, const derivation& how,
                                         std::vector<child_tensor>& planned);
derivation_record plan_norm_rescaling(const stored_model& parent, const derivation& how,
                                      double scale, std::vector<child_tensor>& planned);
derivation_record plan_norm_folding(const stored_model& parent, const derivation& how,
                                    std::vector<child_tensor>& planned);
derivation_record plan_hidden_rotation(const stored_model& parent, const derivation& how,
                                       std::vector<child_tensor>& planned);
derivation_record plan_vocab_extension(const stored_model& parent, const derivation& how,
                                       std::vector<child_tensor>& planned);

// The source tensor of a planned child tensor (which must have one).
const stored_tensor& source_of(const stored_model& parent, const child_tensor& planned);

}  // namespace lineage::synth
