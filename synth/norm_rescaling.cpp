#include "synth/norm_rescaling.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <string>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "synth/disguise.hpp"
#include "synth/norm_readers.hpp"
#include "synth/weight_names.hpp"

namespace lineage::synth {

namespace {

constexpr const char* option = "--kind rescale-norms";
constexpr std::string_view final_norm = "model.norm.weight";

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

// Which factors a tensor takes, when the model has them: every norm its own, except that the final
// norm and a shared_head.norm without a shared_head.head of its own both feed lm_head and share
// the final norm's. Readers take the factors of the norms they read. `rescale_head` is false for
// tied embeddings: lm_head is embed_tokens, whose columns the final norm's factors may not touch
// (the embedding is read before any norm), so the norms before lm_head and score stay.
void plan_factors(const stored_tensor& source, const norm_index& index, bool rescale_head,
                  std::vector<std::string>& rescaled, child_tensor& tensor) {
  const auto name = classify_weight(source.name);
  const std::string final_name(final_norm);
  switch (name.kind) {
    case weight_kind::input_norm:
    case weight_kind::post_attention_norm:
    case weight_kind::mtp_embedding_norm:
    case weight_kind::mtp_hidden_norm:
      scale_by(source.name, 0, index, source, tensor);
      rescaled.push_back(source.name);
      return;
    case weight_kind::mtp_head_norm:
      if (index.own_heads.count(name.layer) > 0) {
        scale_by(source.name, 0, index, source, tensor);
        rescaled.push_back(source.name);
        return;
      }
      [[fallthrough]];
    case weight_kind::final_norm:
      if (!rescale_head) return;
      scale_by(final_name, 0, index, source, tensor);
      rescaled.push_back(source.name);
      return;
    case weight_kind::lm_head:
    case weight_kind::classifier:
      if (rescale_head) scale_by(final_name, 0, index, source, tensor);
      return;
    default:
      for (const auto& read : norms_read_by(index, source.name, option))
        scale_by(read.norm, read.first_column, index, source, tensor);
  }
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
  const norm_index index = index_norms(parent, planned, option);
  const bool rescale_head = index.has_final && index.has_lm_head;
  std::vector<std::string> rescaled;
  for (auto& tensor : planned) plan_factors(source_of(parent, tensor), index, rescale_head, rescaled, tensor);
  if (rescaled.empty())
    throw usage_error(fmt::format("synth derive: {}: the parent has no RMSNorm weight", option));
  derivation_record record;
  record.provenance["norm_rescaling"] = {{"scale", scale}, {"norms", rescaled}};
  return record;
}

}  // namespace lineage::synth
