#include "synth/vocab_extension.hpp"

#include <fmt/format.h>

#include <cmath>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "synth/derive_transforms.hpp"
#include "synth/disguise.hpp"
#include "synth/weight_names.hpp"

namespace lineage::synth {

namespace {
constexpr double row_scale_log_sigma = 0.2;
}  // namespace

void draw_appended_rows(std::span<const float> old_values, std::uint64_t columns,
                        std::uint64_t seed, std::string_view tensor, std::span<float> out) {
  // The old rows' scale rather than a fixed one: the parent may itself be drifted or rescaled.
  const double base_sigma = root_mean_square(old_values);
  random_stream stream(seed, "derive extend-vocab", tensor);
  for (std::size_t row_start = 0; row_start < out.size(); row_start += columns) {
    const double sigma = base_sigma * std::exp(row_scale_log_sigma * stream.normal());
    for (std::size_t i = row_start; i < row_start + columns && i < out.size(); ++i)
      out[i] = static_cast<float>(sigma * stream.normal());
  }
}

derivation_record plan_vocab_extension(const stored_model& parent, const derivation& how,
                                       std::vector<child_tensor>& planned) {
  const std::uint64_t tokens = how.tokens.value_or(0);
  std::uint64_t vocab = 0;
  for (auto& tensor : planned) {
    const auto& source = source_of(parent, tensor);
    const auto kind = classify_weight(source.name).kind;
    if (kind != weight_kind::embedding && kind != weight_kind::lm_head && kind != weight_kind::mtp_head) continue;
    if (source.shape.size() != 2 || (vocab != 0 && source.shape[0] != vocab))
      throw input_error(
          fmt::format("synth derive: --kind extend-vocab: {} is not a [vocab, "
                      "hidden] matrix like the other vocabulary tensor",
                      source.name));
    vocab = source.shape[0];
    tensor.appended_rows = tokens;
    tensor.target.shape[0] += tokens;
  }
  if (vocab == 0)
    throw usage_error("synth derive: --kind extend-vocab: the parent has no model.embed_tokens");
  const auto configured = parent.config.find("vocab_size");
  if (configured != parent.config.end() && *configured != vocab)
    throw input_error(
        fmt::format("synth derive: --kind extend-vocab: config.json vocab_size {} but the "
                    "embedding has {} rows",
                    configured->dump(), vocab));
  derivation_record record;
  record.config["vocab_size"] = vocab + tokens;
  record.provenance["vocab_extension"] = {{"old", vocab}, {"new", vocab + tokens}};
  return record;
}

}  // namespace lineage::synth
