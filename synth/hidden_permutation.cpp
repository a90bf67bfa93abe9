// permute-hidden: one permutation P of the residual stream, applied wherever it is read or
// written. Every layer reads the residual through an RMSNorm (whose mean of squares does not see
// the order, and whose weight is permuted with it) and a linear layer (columns by P), and writes
// it back through o_proj and down (rows by P); so the child's residual is the parent's in the
// order P, and the logits are unchanged.
//
// flip-hidden: the same walk with signs instead of an order. With the residual x' = σ∘x (σ in
// {±1}), RMSNorm gives σ∘y for the same weight; readers' columns and the embedding's and lm_head's
// take σ, writers' rows take σ, and the logits are unchanged. The norm weights stay as they are.
//
// prune-hidden: the same walk with a sorted subset of the dimensions instead of a permutation
// (width pruning as Minitron does it): every tensor loses the pruned dimensions where the residual
// runs, config.json's hidden_size shrinks, and head_dim is written out because it no longer
// follows from hidden_size / num_attention_heads. The function changes; the test is whether the
// comparison still sees the parent (hidden matching is rectangular then, and the tensors, now of
// other shapes, have their shape-free fingerprints).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "synth/disguise.hpp"
#include "synth/permutation_draw.hpp"
#include "synth/residual_walk.hpp"
#include "synth/weight_names.hpp"

namespace lineage::synth {

namespace {

// Sets each planned tensor's rows or columns to `order` (parent dimension per child dimension)
// where the residual runs; a shorter `order` prunes, and the target shapes shrink with it.
void select_hidden_dimensions(const stored_model& parent, std::vector<child_tensor>& planned, std::uint64_t hidden,
                              const std::vector<std::uint64_t>& order, const char* option) {
  walk_residual(parent, planned, hidden, order, option,
                [](child_tensor& tensor, const auto& rows, const auto& columns, bool /*norm*/) {
                  auto& target = tensor.target.shape;
                  if (!rows.empty()) tensor.rows = rows, target.front() = rows.size();
                  if (!columns.empty()) tensor.columns = columns, target.back() = columns.size();
                });
}

}  // namespace

derivation_record plan_hidden_permutation(const stored_model& parent, const derivation& how,
                                          std::vector<child_tensor>& planned) {
  constexpr const char* option = "--kind permute-hidden";
  const std::uint64_t hidden = residual_width(parent, option);
  random_stream stream(how.seed, "derive permute-hidden", "model.hidden");
  const std::vector<std::uint64_t> order = non_identity_permutation(stream, hidden);
  select_hidden_dimensions(parent, planned, hidden, order, option);
  derivation_record record;
  record.provenance["hidden_permutation"] = order;  // child dimension j = parent dimension [j]
  return record;
}

derivation_record plan_hidden_sign_flips(const stored_model& parent, const derivation& how,
                                         std::vector<child_tensor>& planned) {
  constexpr const char* option = "--kind flip-hidden";
  const std::uint64_t hidden = residual_width(parent, option);
  // The first half of a seeded permutation, in ascending order: at least one dimension.
  random_stream stream(how.seed, "derive flip-hidden", "model.hidden");
  std::vector<std::uint64_t> flipped = non_identity_permutation(stream, hidden);
  flipped.resize(std::max<std::uint64_t>(1, hidden / 2));
  std::sort(flipped.begin(), flipped.end());
  walk_residual(parent, planned, hidden, flipped, option,
                [](child_tensor& tensor, const auto& rows, const auto& columns, bool norm) {
                  if (norm) return;  // RMSNorm does not see the signs
                  tensor.negated_rows = rows;
                  tensor.negated_columns = columns;
                });
  derivation_record record;
  record.provenance["hidden_sign_flips"] = flipped;  // the dimensions that changed sign
  return record;
}

derivation_record plan_hidden_pruning(const stored_model& parent, const derivation& how, double fraction,
                                      std::vector<child_tensor>& planned) {
  constexpr const char* option = "--kind prune-hidden";
  const std::uint64_t hidden = residual_width(parent, option);
  const auto pruned = static_cast<std::uint64_t>(std::llround(fraction * static_cast<double>(hidden)));
  if (fraction >= 1 || pruned == 0 || pruned >= hidden)
    throw usage_error(fmt::format("synth derive: {}: --scale {} prunes {} of {} hidden dimensions; it must "
                                  "prune at least one and keep at least one",
                                  option, fraction, pruned, hidden));
  // The kept dimensions: the first hidden − pruned of a seeded permutation, in their old order.
  random_stream stream(how.seed, "derive prune-hidden", "model.hidden");
  std::vector<std::uint64_t> kept = non_identity_permutation(stream, hidden);
  kept.resize(hidden - pruned);
  std::sort(kept.begin(), kept.end());
  std::uint64_t head_dim = 0;
  if (const auto heads = parent.config.find("num_attention_heads");
      heads != parent.config.end() && heads->is_number_unsigned() && heads->get<std::uint64_t>() > 0) {
    for (const auto& tensor : parent.tensors)
      if (classify_weight(tensor.name).kind == weight_kind::q_proj && tensor.shape.size() == 2) {
        head_dim = tensor.shape[0] / heads->get<std::uint64_t>();
        break;
      }
  }
  select_hidden_dimensions(parent, planned, hidden, kept, option);
  derivation_record record;
  record.config["hidden_size"] = kept.size();
  if (head_dim > 0 && !parent.config.contains("head_dim")) record.config["head_dim"] = head_dim;
  record.provenance["hidden_pruning"] = kept;  // child dimension j = parent dimension [j]
  return record;
}

}  // namespace lineage::synth
