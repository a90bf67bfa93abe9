#include "synth/disguise.hpp"

#include "core/error.hpp"

namespace lineage::synth {

bool disguises(derivation_kind kind) noexcept {
  switch (kind) {
    case derivation_kind::permute_neurons:
    case derivation_kind::permute_heads:
    case derivation_kind::permute_hidden:
    case derivation_kind::prune_hidden:
    case derivation_kind::flip_hidden:
    case derivation_kind::rescale_norms:
    case derivation_kind::extend_vocab:
    case derivation_kind::fold_norms:
    case derivation_kind::rotate_hidden:
      return true;
    default:
      return false;
  }
}

derivation_record plan_disguise(const stored_model& parent, const derivation& how, double strength,
                                std::vector<child_tensor>& planned) {
  derivation_record record;
  switch (how.kind) {
    case derivation_kind::permute_neurons:
      record = plan_neuron_permutation(parent, how, planned);
      break;
    case derivation_kind::permute_heads:
      record = plan_head_permutation(parent, how, planned);
      break;
    case derivation_kind::permute_hidden:
      record = plan_hidden_permutation(parent, how, planned);
      break;
    case derivation_kind::prune_hidden:
      record = plan_hidden_pruning(parent, how, strength, planned);
      break;
    case derivation_kind::flip_hidden:
      record = plan_hidden_sign_flips(parent, how, planned);
      break;
    case derivation_kind::rescale_norms:
      record = plan_norm_rescaling(parent, how, strength, planned);
      break;
    case derivation_kind::extend_vocab:
      record = plan_vocab_extension(parent, how, planned);
      break;
    case derivation_kind::fold_norms:
      record = plan_norm_folding(parent, how, planned);
      break;
    case derivation_kind::rotate_hidden:
      record = plan_hidden_rotation(parent, how, planned);
      break;
    default:
      throw internal_error("synth: plan_disguise called for a kind that is no disguise");
  }
  record.provenance["seed"] = how.seed;
  return record;
}

const stored_tensor& source_of(const stored_model& parent, const child_tensor& planned) {
  if (!planned.source) throw internal_error("synth: a planned tensor without a source");
  return parent.tensors.at(*planned.source);
}

}  // namespace lineage::synth
