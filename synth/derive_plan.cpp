#include "synth/derive_plan.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"
#include "synth/layer_edit.hpp"

namespace lineage::synth {

namespace {

std::uint64_t config_count(const stored_model& parent, const char* key, std::uint64_t absent,
                           const std::filesystem::path& from) {
  const auto found = parent.config.find(key);
  if (found == parent.config.end()) return absent;
  if (!found->is_number_unsigned())
    throw input_error(fmt::format("{}: config.json {} {} is not a whole number", from.string(), key,
                                  found->dump()));
  return found->get<std::uint64_t>();
}

// A routed expert's tensor renamed for each child expert that copies it (none when dropped).
void plan_expert(const stored_tensor& stored, std::size_t index, const output_tensor& same,
                 const routed_expert& address, const expert_sources& experts,
                 std::vector<child_tensor>& planned) {
  const auto& sources = experts.at(address.layer);
  for (std::size_t child = 0; child < sources.size(); ++child) {
    if (sources[child] != address.expert) continue;
    output_tensor renamed = same;
    renamed.name = with_routed_expert(stored.name, child);
    planned.push_back({.target = std::move(renamed), .source = index});
  }
}

}  // namespace

parent_layers count_parent_layers(const stored_model& parent, const std::filesystem::path& from) {
  std::uint64_t count = 0;
  for (const auto& tensor : parent.tensors)
    if (const auto layer = decoder_layer_of(tensor.name)) count = std::max(count, *layer + 1);
  parent_layers layers;
  layers.mtp = config_count(parent, "num_nextn_predict_layers", 0, from);
  if (layers.mtp > count)
    throw input_error(fmt::format(
        "{}: config.json num_nextn_predict_layers {} but the tensors hold only {} layers",
        from.string(), layers.mtp, count));
  layers.main = config_count(parent, "num_hidden_layers", count - layers.mtp, from);
  if (layers.main + layers.mtp != count)
    throw input_error(fmt::format(
        "{}: config.json num_hidden_layers {} (+ {} MTP) but the tensors hold layers 0..{} ({} "
        "layers)",
        from.string(), layers.main, layers.mtp, count == 0 ? 0 : count - 1, count));
  return layers;
}

std::vector<child_tensor> plan_tensors(const stored_model& parent, const derivation& how,
                                       const std::vector<std::uint64_t>& layer_sources,
                                       const expert_sources& experts) {
  std::vector<child_tensor> planned;
  for (std::size_t index = 0; index < parent.tensors.size(); ++index) {
    const stored_tensor& stored = parent.tensors[index];
    const output_tensor same{stored.name, how.type.value_or(stored.type), stored.shape};
    if (edits_experts(how.kind)) {
      if (const auto address = routed_expert_of(stored.name)) {
        plan_expert(stored, index, same, *address, experts, planned);
        continue;
      }
      if (const auto layer = router_layer_of(stored.name)) {
        const auto& rows = experts.at(*layer);
        output_tensor reordered = same;
        reordered.shape[0] = rows.size();
        planned.push_back({.target = std::move(reordered), .source = index, .rows = rows});
        continue;
      }
    }
    const auto layer = decoder_layer_of(stored.name);
    if (!edits_layers(how.kind) || !layer) {
      planned.push_back({.target = same, .source = index});
      continue;
    }
    for (std::size_t child = 0; child < layer_sources.size(); ++child) {
      if (layer_sources[child] != *layer) continue;
      output_tensor renamed = same;
      renamed.name = with_decoder_layer(stored.name, child);
      planned.push_back({.target = std::move(renamed), .source = index});
    }
  }
  std::sort(planned.begin(), planned.end(), [](const child_tensor& x, const child_tensor& y) {
    return x.target.name < y.target.name;
  });
  return planned;
}

}  // namespace lineage::synth
