// rotate-hidden: the residual stream x becomes Q x for an orthogonal Q. With every norm folded
// first (norm_folding.hpp) each RMSNorm has weight 1, and RMSNorm(Q x) = Q RMSNorm(x) because Q
// keeps the length; so embedding rows e become Q e (E <- E Q^T), every reader W <- W Q^T (eh_proj on
// both halves of its columns), every writer W <- Q W (eh_proj writes the MTP block's residual too),
// and the logits are unchanged. No weight is element-aligned with the parent's any more: only an
// analysis that undoes a rotation, not a permutation, can pair the hidden dimensions.
#include <fmt/format.h>

#include <numeric>

#include "core/error.hpp"
#include "synth/disguise.hpp"
#include "synth/hidden_rotation.hpp"
#include "synth/norm_folding.hpp"
#include "synth/residual_walk.hpp"

namespace lineage::synth {

derivation_record plan_hidden_rotation(const stored_model& parent, const derivation& how,
                                       std::vector<child_tensor>& planned) {
  constexpr const char* option = "--kind rotate-hidden";
  const std::uint64_t hidden = residual_width(parent, option);
  const hidden_rotation_kind rotation = how.rotation.value_or(hidden_rotation_kind::orthogonal);
  if (rotation == hidden_rotation_kind::hadamard && !is_power_of_two(hidden))
    throw usage_error(fmt::format(
        "synth derive: {} --rotation hadamard needs a hidden size that is a power of two; the parent's is {}", option,
        hidden));
  derivation_record record = fold_every_norm(parent, planned, option);
  std::vector<std::uint64_t> dims(hidden);
  std::iota(dims.begin(), dims.end(), std::uint64_t{0});
  walk_residual(parent, planned, hidden, dims, option,
                [&](child_tensor& tensor, const auto& rows, const auto& columns, bool norm) {
                  if (norm) {
                    // A norm with a weight other than 1 does not commute with Q.
                    if (!tensor.unit_values)
                      throw usage_error(fmt::format("synth derive: {}: norm {} has no linear reader to fold into",
                                                    option, tensor.target.name));
                    return;
                  }
                  tensor.rotation.hidden = hidden;
                  tensor.rotation.rows = !rows.empty();
                  for (std::uint64_t first = 0; first < columns.size(); first += hidden)
                    tensor.rotation.column_blocks.push_back(first);
                });
  record.provenance["hidden_rotation"] = {{"rotation", std::string(hidden_rotation_name(rotation))},
                                          {"hidden", hidden}};
  return record;
}

}  // namespace lineage::synth
