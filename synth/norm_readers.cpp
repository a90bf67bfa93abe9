#include "synth/norm_readers.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "synth/disguise.hpp"
#include "synth/weight_names.hpp"

namespace lineage::synth {

namespace {

constexpr const char* final_norm = "model.norm.weight";

const std::string& layer_norm(const norm_index& index, std::uint64_t layer, std::string layer_norms::*which,
                              const std::string& reader, const char* option) {
  const auto found = index.layers.find(layer);
  if (found == index.layers.end() || (found->second.*which).empty())
    throw input_error(
        fmt::format("synth derive: {}: {} reads a norm that layer {} does not have", option, reader, layer));
  return found->second.*which;
}

void record_norm(const weight_name& name, const std::string& norm, norm_index& index) {
  auto& norms = index.layers[name.layer];
  switch (name.kind) {
    case weight_kind::input_norm:
      norms.input = norm;
      break;
    case weight_kind::post_attention_norm:
      norms.post_attention = norm;
      break;
    case weight_kind::mtp_embedding_norm:
      norms.embedding = norm;
      break;
    case weight_kind::mtp_hidden_norm:
      norms.hidden = norm;
      break;
    case weight_kind::mtp_head_norm:
      norms.head = norm;
      break;
    case weight_kind::final_norm:
      index.has_final = true;
      break;
    default:
      break;
  }
}

}  // namespace

norm_index index_norms(const stored_model& parent, const std::vector<child_tensor>& planned, const char* option) {
  norm_index index;
  for (const auto& tensor : planned) {
    const auto& source = source_of(parent, tensor);
    const auto name = classify_weight(source.name);
    if (name.kind == weight_kind::lm_head) index.has_lm_head = true;
    if (name.kind == weight_kind::mtp_head) index.own_heads.insert(name.layer);
    if (!is_hidden_norm(name.kind)) continue;
    if (source.shape.size() != 1)
      throw input_error(fmt::format("synth derive: {}: norm {} is not a vector", option, source.name));
    index.lengths[source.name] = source.shape[0];
    index.sources[source.name] = *tensor.source;
    record_norm(name, source.name, index);
  }
  return index;
}

std::vector<norm_read> norms_read_by(const norm_index& index, const std::string& source, const char* option) {
  const auto name = classify_weight(source);
  const auto in_layer = [&](std::string layer_norms::*which) {
    return layer_norm(index, name.layer, which, source, option);
  };
  switch (name.kind) {
    case weight_kind::q_proj:
    case weight_kind::k_proj:
    case weight_kind::v_proj:
      return {{in_layer(&layer_norms::input), 0}};
    case weight_kind::mlp_gate:
    case weight_kind::mlp_up:
    case weight_kind::router:
      return {{in_layer(&layer_norms::post_attention), 0}};
    case weight_kind::mtp_projection: {
      // eh_proj reads [enorm(embedding); hnorm(hidden)].
      const auto& embedding = in_layer(&layer_norms::embedding);
      return {{embedding, 0}, {in_layer(&layer_norms::hidden), index.lengths.at(embedding)}};
    }
    case weight_kind::mtp_head:
      return {{in_layer(&layer_norms::head), 0}};
    case weight_kind::lm_head:
    case weight_kind::classifier:
      if (!index.has_final) return {};
      return {{final_norm, 0}};
    default:
      return {};
  }
}

}  // namespace lineage::synth
