#include "synth/residual_walk.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "synth/disguise.hpp"
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
    case weight_kind::mtp_head:
    case weight_kind::classifier:
      return hidden_axis::columns;
    case weight_kind::o_proj:
    case weight_kind::mlp_down:
      return hidden_axis::rows;
    case weight_kind::mtp_projection:
      return hidden_axis::both_halves;
    default:
      return hidden_axis::none;  // biases, q/k norms, the router's correction bias, buffers
  }
}

void check_extent(const stored_tensor& tensor, std::uint64_t extent, std::uint64_t hidden, const char* what,
                  const char* option) {
  if (extent != hidden)
    throw input_error(fmt::format("synth derive: {}: {} has {} {} where the hidden size is {}", option, tensor.name,
                                  extent, what, hidden));
}

}  // namespace

std::uint64_t residual_width(const stored_model& parent, const char* option) {
  for (const auto& tensor : parent.tensors)
    if (classify_weight(tensor.name).kind == weight_kind::embedding && tensor.shape.size() == 2) {
      const auto configured = parent.config.find("hidden_size");
      if (configured != parent.config.end() && *configured != tensor.shape[1])
        throw input_error(fmt::format("synth derive: {}: config.json hidden_size {} but {} has {} columns", option,
                                      configured->dump(), tensor.name, tensor.shape[1]));
      return tensor.shape[1];
    }
  throw usage_error(fmt::format("synth derive: {}: the parent has no model.embed_tokens.weight matrix", option));
}

void walk_residual(const stored_model& parent, std::vector<child_tensor>& planned, std::uint64_t hidden,
                   const std::vector<std::uint64_t>& dims, const char* option, const residual_placement& place) {
  const std::vector<std::uint64_t> none;
  for (auto& tensor : planned) {
    const auto& source = source_of(parent, tensor);
    const auto kind = classify_weight(source.name).kind;
    if (kind == weight_kind::other)
      throw input_error(fmt::format("synth derive: {}: cannot tell where the hidden dimension runs in tensor {}",
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

}  // namespace lineage::synth
