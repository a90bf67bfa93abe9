#pragma once
// Which parent tensor each tensor of a derived model comes from: one for one, or through a depth
// edit (layers renumbered, an MTP block kept last) or an expert edit (experts renumbered, router
// rows reordered).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "synth/expert_edit.hpp"
#include "synth/model_reader.hpp"
#include "synth/safetensors_writer.hpp"
#include "synth/synth.hpp"

namespace lineage::synth {

// One tensor of the child and where its values come from.
struct child_tensor {
  output_tensor target;
  std::size_t source = 0;  // index into stored_model::tensors
  // Empty: the source's values as they are. Else the rows (leading dimension) of the source to
  // take, in order: a router's rows follow its experts.
  std::vector<std::uint64_t> rows;
};

// The parent's decoder layers: the main stack (config num_hidden_layers) and the
// multi-token-prediction blocks after it (num_nextn_predict_layers, 0 when absent).
struct parent_layers {
  std::uint64_t main = 0;
  std::uint64_t mtp = 0;
};

// From the tensor names; config.json must agree. Throws input_error when it does not.
parent_layers count_parent_layers(const stored_model& parent, const std::filesystem::path& from);

// The child's tensors, sorted by name. With a depth edit, child layer L takes the tensors of parent
// layer layer_sources[L] (MTP blocks included, last); with an expert edit, child expert j of layer
// L takes parent expert experts[L][j] and the router the matching rows. Otherwise the parent's
// tensors one for one.
std::vector<child_tensor> plan_tensors(const stored_model& parent, const derivation& how,
                                       const std::vector<std::uint64_t>& layer_sources,
                                       const expert_sources& experts);

}  // namespace lineage::synth
