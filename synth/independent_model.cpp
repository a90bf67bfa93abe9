// write_independent_model: a new model from a seed.
#include <fmt/format.h>

#include <vector>

#include "core/error.hpp"
#include "synth/independent_values.hpp"
#include "synth/llama_layout.hpp"
#include "synth/moe_layout.hpp"
#include "synth/safetensors_writer.hpp"
#include "synth/structure_layout.hpp"
#include "synth/structure_values.hpp"
#include "synth/synth.hpp"
#include "synth/tokenizer_generator.hpp"
#include "synth/value_codec.hpp"

namespace lineage::synth {

written_model write_independent_model(const model_shape& shape, std::uint64_t seed,
                                      const std::filesystem::path& out,
                                      const write_options& options) {
  shape.validate();
  if (!(options.layer_correlation >= 0.0 && options.layer_correlation < 1.0))
    throw usage_error(
        fmt::format("synth: --layer-correlation {} must be in [0, 1)", options.layer_correlation));
  validate_structure(options.structure, shape);
  nlohmann::json config = model_config(shape, options.type);
  auto specs = model_tensors(shape);
  add_structure_tensors(options.structure, shape, config, specs);
  std::vector<output_tensor> tensors;
  tensors.reserve(specs.size());
  for (const auto& spec : specs)
    tensors.push_back({spec.name, spec.stored_type.value_or(options.type), spec.shape});

  const independent_draw draw{seed, options.layer_correlation};
  const structured_draw values_of(shape, options.structure, draw, config);
  config["lineage_synth"] = {
      {"kind", "independent"},
      {"seed", seed},
      {"layer_correlation", options.layer_correlation},
      {"tokenizer_seed", options.tokenizer_seed}};
  if (options.structure.shared_seed)
    config["lineage_synth"]["shared_structure"] = structure_provenance(options.structure);

  std::vector<float> values;
  const tensor_filler fill = [&](std::size_t index, std::span<std::byte> bytes) {
    values.resize(tensors[index].element_count());
    values_of.fill(specs[index], values);
    encode_values(values, tensors[index].type, bytes);
  };
  return write_model_directory(out, config, tensors, options.shards, fill,
                               independent_tokenizer_json(shape.vocab, options.tokenizer_seed));
}

}  // namespace lineage::synth
