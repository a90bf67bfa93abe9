#pragma once
// The tensors and config.json of a Llama-style checkpoint (model_type "llama").
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "synth/synth.hpp"

namespace lineage::synth {

// How a tensor's values are drawn; derivations tell roles apart by rank (1-D norm vectors, 2-D
// matrices), so this is only needed for independent generation.
enum class tensor_role { embedding, matrix, norm };

struct tensor_spec {
  std::string name;
  std::vector<std::uint64_t> shape;
  tensor_role role = tensor_role::matrix;
};

// Every tensor of the model, sorted by name (the order of the files and of each header).
std::vector<tensor_spec> llama_tensors(const model_shape& shape);

// config.json of the model, without the "lineage_synth" provenance block.
nlohmann::json llama_config(const model_shape& shape, dtype type);

}  // namespace lineage::synth
