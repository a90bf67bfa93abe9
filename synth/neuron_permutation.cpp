// permute-neurons: the intermediate neurons of every MLP in a new order. SwiGLU computes
// down (silu(gate x) * up x) neuron by neuron, so moving rows of gate and up and columns of down
// together leaves the output as it was.
#include <fmt/format.h>

#include <map>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "synth/disguise.hpp"
#include "synth/permutation_draw.hpp"
#include "synth/weight_names.hpp"

namespace lineage::synth {

namespace {

bool is_mlp_projection(weight_kind kind) {
  return kind == weight_kind::mlp_gate || kind == weight_kind::mlp_up ||
         kind == weight_kind::mlp_down;
}

// The neuron count of a projection: rows of gate and up, columns of down.
std::uint64_t neuron_extent(const stored_tensor& tensor, weight_kind kind) {
  if (tensor.shape.size() != 2)
    throw input_error(
        fmt::format("synth derive: --kind permute-neurons: MLP tensor {} is not a "
                    "matrix",
                    tensor.name));
  return kind == weight_kind::mlp_down ? tensor.shape[1] : tensor.shape[0];
}

// Each MLP's width, checked to agree across its three projections.
std::map<std::string, std::uint64_t> mlp_widths(const stored_model& parent,
                                                const std::vector<child_tensor>& planned) {
  std::map<std::string, std::uint64_t> widths;
  std::map<std::string, int> projections;
  for (const auto& tensor : planned) {
    const auto& source = source_of(parent, tensor);
    const auto name = classify_weight(source.name);
    if (!is_mlp_projection(name.kind)) continue;
    const std::uint64_t extent = neuron_extent(source, name.kind);
    const auto [found, added] = widths.emplace(name.mlp, extent);
    if (!added && found->second != extent)
      throw input_error(
          fmt::format("synth derive: --kind permute-neurons: {} has {} neurons where "
                      "the other projections of {} have {}",
                      source.name, extent, name.mlp, found->second));
    ++projections[name.mlp];
  }
  for (const auto& [mlp, count] : projections)
    if (count != 3)
      throw input_error(fmt::format(
          "synth derive: --kind permute-neurons: {} has {} of the 3 projections gate, up, down",
          mlp, count));
  return widths;
}

}  // namespace

derivation_record plan_neuron_permutation(const stored_model& parent, const derivation& how,
                                          std::vector<child_tensor>& planned) {
  const auto widths = mlp_widths(parent, planned);
  if (widths.empty())
    throw usage_error("synth derive: --kind permute-neurons: the parent has no MLP");
  // Drawn per MLP from its own name, so the permutation of one MLP does not depend on the others.
  std::map<std::string, std::vector<std::uint64_t>> orders;
  for (const auto& [mlp, width] : widths) {
    random_stream stream(how.seed, "derive permute-neurons", mlp);
    orders[mlp] = non_identity_permutation(stream, width);
  }
  for (auto& tensor : planned) {
    const auto name = classify_weight(source_of(parent, tensor).name);
    if (!is_mlp_projection(name.kind)) continue;
    const auto& order = orders.at(name.mlp);
    if (name.kind == weight_kind::mlp_down)
      tensor.columns = order;
    else
      tensor.rows = order;
  }
  derivation_record record;
  nlohmann::json recorded = nlohmann::json::object();
  for (const auto& [mlp, order] : orders) recorded[mlp] = order;
  record.provenance["neuron_permutation"] = recorded;  // child neuron j = parent neuron [j]
  return record;
}

}  // namespace lineage::synth
