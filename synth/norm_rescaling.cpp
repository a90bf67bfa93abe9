#include "synth/norm_rescaling.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <string>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "synth/disguise.hpp"
#include "synth/weight_names.hpp"

namespace lineage::synth {

namespace {

constexpr const char* option = "--kind rescale-norms";
// The final norm and the MTP block's shared_head.norm both feed the one lm_head, so they share
// the factors drawn for the final norm.
constexpr std::string_view final_norm = "model.norm.weight";

struct layer_norms {
  std::string input, post_attention, embedding, hidden;  // empty: the layer has none
};

// The norm vectors of the model, by layer, and their (common) length.
struct norm_index {
  std::map<std::uint64_t, layer_norms> layers;
  std::map<std::string, std::uint64_t> lengths;
  bool has_final = false, has_lm_head = false;

  const std::string& at(std::uint64_t layer, std::string layer_norms::*which,
                        const std::string& reader) const {
    const auto found = layers.find(layer);
    if (found == layers.end() || (found->second.*which).empty())
      throw input_error(fmt::format("synth derive: {}: {} reads a norm that layer {} does not have",
                                    option, reader, layer));
    return found->second.*which;
  }
};

norm_index index_norms(const stored_model& parent, const std::vector<child_tensor>& planned) {
  norm_index index;
  for (const auto& tensor : planned) {
    const auto& source = source_of(parent, tensor);
    const auto name = classify_weight(source.name);
    if (name.kind == weight_kind::lm_head) index.has_lm_head = true;
    if (!is_hidden_norm(name.kind)) continue;
    if (source.shape.size() != 1)
      throw input_error(
          fmt::format("synth derive: {}: norm {} is not a vector", option, source.name));
    index.lengths[source.name] = source.shape[0];
    auto& norms = index.layers[name.layer];
    switch (name.kind) {
      case weight_kind::input_norm:
        norms.input = source.name;
        break;
      case weight_kind::post_attention_norm:
        norms.post_attention = source.name;
        break;
      case weight_kind::mtp_embedding_norm:
        norms.embedding = source.name;
        break;
      case weight_kind::mtp_hidden_norm:
        norms.hidden = source.name;
        break;
      case weight_kind::final_norm:
        index.has_final = true;
        break;
      default:
        break;
    }
  }
  return index;
}

// Adds the scaling by `norm` to `tensor`, checked to fit its elements or columns.
void scale_by(const std::string& norm, std::uint64_t first_column, const norm_index& index,
              const stored_tensor& source, child_tensor& tensor) {
  const std::uint64_t length = index.lengths.at(norm);
  const std::uint64_t extent = source.shape.empty() ? 0 : source.shape.back();
  if (first_column + length > extent || (source.shape.size() == 1 && extent != length))
    throw input_error(
        fmt::format("synth derive: {}: {} has {} columns, too few to read norm {} "
                    "({} elements) from column {}",
                    option, source.name, extent, norm, length, first_column));
  tensor.scalings.push_back({norm, first_column, length});
}

}  // namespace

std::vector<double> norm_factors(std::uint64_t seed, double scale, std::string_view norm,
                                 std::uint64_t length) {
  random_stream stream(seed, "derive rescale-norms", norm);
  std::vector<double> factors(length);
  for (double& factor : factors) factor = std::exp(scale * stream.normal());
  return factors;
}

// The factors are drawn when the values are written (child_values.cpp), from the seed of `how`.
derivation_record plan_norm_rescaling(const stored_model& parent, const derivation& /*how*/,
                                      double scale, std::vector<child_tensor>& planned) {
  const norm_index index = index_norms(parent, planned);
  // Tied embeddings: lm_head is embed_tokens, whose columns the final norm's factors may not
  // touch (the embedding is read before any norm), so the norms before lm_head stay.
  const bool rescale_head = index.has_final && index.has_lm_head;
  const std::string final_name(final_norm);
  std::vector<std::string> rescaled;
  for (auto& tensor : planned) {
    const auto& source = source_of(parent, tensor);
    const auto name = classify_weight(source.name);
    switch (name.kind) {
      case weight_kind::input_norm:
      case weight_kind::post_attention_norm:
      case weight_kind::mtp_embedding_norm:
      case weight_kind::mtp_hidden_norm:
        scale_by(source.name, 0, index, source, tensor);
        rescaled.push_back(source.name);
        break;
      case weight_kind::final_norm:
      case weight_kind::mtp_head_norm:
        if (!rescale_head) break;
        scale_by(final_name, 0, index, source, tensor);
        rescaled.push_back(source.name);
        break;
      case weight_kind::lm_head:
        if (rescale_head) scale_by(final_name, 0, index, source, tensor);
        break;
      case weight_kind::q_proj:
      case weight_kind::k_proj:
      case weight_kind::v_proj:
        scale_by(index.at(name.layer, &layer_norms::input, source.name), 0, index, source, tensor);
        break;
      case weight_kind::mlp_gate:
      case weight_kind::mlp_up:
      case weight_kind::router:
        scale_by(index.at(name.layer, &layer_norms::post_attention, source.name), 0, index, source,
                 tensor);
        break;
      case weight_kind::mtp_projection: {
        // eh_proj reads [enorm(embedding); hnorm(hidden)]: each half its own norm's factors.
        const auto& embedding = index.at(name.layer, &layer_norms::embedding, source.name);
        scale_by(embedding, 0, index, source, tensor);
        scale_by(index.at(name.layer, &layer_norms::hidden, source.name),
                 index.lengths.at(embedding), index, source, tensor);
        break;
      }
      default:
        break;
    }
  }
  if (rescaled.empty())
    throw usage_error(fmt::format("synth derive: {}: the parent has no RMSNorm weight", option));
  derivation_record record;
  record.provenance["norm_rescaling"] = {{"scale", scale}, {"norms", rescaled}};
  return record;
}

}  // namespace lineage::synth
