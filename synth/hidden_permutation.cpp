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
#include "synth/weight_names.hpp"

namespace lineage::synth {

namespace {

enum class hidden_axis { none, rows, columns, both_halves };

// Where the hidden dimension runs in a tensor of `kind`.
hidden_axis axis_of(weight_kind kind) {
  if (is_hidden_norm(kind)) return hidden_axis::rows;  // a vector: its elements
  switch (kind) {
    case weight_kind::embedding:
    case weight_kind::lm_head:
    case weight_kind::q_proj:
    case weight_kind::k_proj:
    case weight_kind::v_proj:
    case weight_kind::mlp_gate:
    case weight_kind::mlp_up:
    case weight_kind::router:
      return hidden_axis::columns;
    case weight_kind::o_proj:
    case weight_kind::mlp_down:
      return hidden_axis::rows;
    case weight_kind::mtp_projection:
      return hidden_axis::both_halves;
    default:
      return hidden_axis::none;  // biases, q/k norms, the router's correction bias
  }
}

void check_extent(const stored_tensor& tensor, std::uint64_t extent, std::uint64_t hidden,
                  const char* what, const char* option) {
  if (extent != hidden)
    throw input_error(fmt::format("synth derive: {}: {} has {} {} where the hidden size is {}",
                                  option, tensor.name, extent, what, hidden));
}

std::uint64_t hidden_size(const stored_model& parent, const char* option) {
  for (const auto& tensor : parent.tensors)
    if (classify_weight(tensor.name).kind == weight_kind::embedding && tensor.shape.size() == 2) {
      const auto configured = parent.config.find("hidden_size");
      if (configured != parent.config.end() && *configured != tensor.shape[1])
        throw input_error(
            fmt::format("synth derive: {}: config.json hidden_size {} but {} has {} "
                        "columns",
                        option, configured->dump(), tensor.name, tensor.shape[1]));
      return tensor.shape[1];
    }
  throw usage_error(
      fmt::format("synth derive: {}: the parent has no model.embed_tokens.weight matrix", option));
}

// Where the residual runs in each planned tensor, checked against `hidden`: calls
// place(tensor, rows, columns, norm) with the lists its rows and its columns take from `dims`
// (empty: that axis is not the residual; eh_proj's columns take `dims` for both of its halves).
template <class Place>
void walk_residual(const stored_model& parent, std::vector<child_tensor>& planned, std::uint64_t hidden,
                   const std::vector<std::uint64_t>& dims, const char* option, Place place) {
  const std::vector<std::uint64_t> none;
  for (auto& tensor : planned) {
    const auto& source = source_of(parent, tensor);
    const auto kind = classify_weight(source.name).kind;
    if (kind == weight_kind::other)
      // An unknown tensor may read or write the residual: moving around it would silently change
      // the function.
      throw input_error(
          fmt::format("synth derive: {}: cannot tell where the hidden dimension runs in tensor {}",
                      option, source.name));
    const auto& shape = source.shape;
    switch (axis_of(kind)) {
      case hidden_axis::none:
        break;
      case hidden_axis::rows:
        check_extent(source, shape.empty() ? 0 : shape[0], hidden, "rows", option);
        place(tensor, dims, none, is_hidden_norm(kind));
        break;
      case hidden_axis::columns:
        check_extent(source, shape.size() == 2 ? shape[1] : 0, hidden, "columns", option);
        place(tensor, none, dims, false);
        break;
      case hidden_axis::both_halves: {
        // eh_proj reads [enorm(embedding); hnorm(hidden)]: both halves are residual-ordered.
        check_extent(source, shape.size() == 2 ? shape[0] : 0, hidden, "rows", option);
        check_extent(source, shape.size() == 2 ? shape[1] : 0, 2 * hidden, "columns", option);
        std::vector<std::uint64_t> halves = dims;
        for (const std::uint64_t j : dims) halves.push_back(hidden + j);
        place(tensor, dims, halves, false);
        break;
      }
    }
  }
}

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
  const std::uint64_t hidden = hidden_size(parent, option);
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
  const std::uint64_t hidden = hidden_size(parent, option);
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
  const std::uint64_t hidden = hidden_size(parent, option);
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
