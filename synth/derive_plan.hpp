#pragma once
// Which parent tensor each tensor of a derived model comes from: one for one, or through a depth
// edit (layers renumbered, an MTP block kept last) or an expert edit (experts renumbered, router
// rows reordered); and, for the disguises (disguise.hpp) and upcycle (upcycle.hpp), which of its
// rows and columns move and which values change.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "synth/expert_edit.hpp"
#include "synth/model_reader.hpp"
#include "synth/safetensors_writer.hpp"
#include "synth/synth.hpp"

namespace lineage::synth {

// Part of a tensor that rescale-norms scales by the factors s of one norm (norm_rescaling.hpp):
// a norm vector's elements are multiplied by s, a matrix's columns [first_column, first_column +
// |s|) divided by s.
struct norm_scaling {
  std::string norm;  // the name the factors are drawn for
  std::uint64_t first_column = 0;
  std::uint64_t length = 0;  // the norm's element count
};

// Part of a tensor that fold-norms multiplies by the parent's values of one norm: the columns
// [first_column, first_column + length) of a matrix that reads the norm.
struct norm_fold {
  std::size_t norm = 0;  // index into stored_model::tensors
  std::uint64_t first_column = 0;
  std::uint64_t length = 0;
};

// rotate-hidden's orthogonal Q (hidden x hidden) applied to a tensor: a writer's rows (W <- Q W),
// a reader's column blocks of `hidden` columns each (W <- W Q^T on each block).
struct residual_rotation {
  std::uint64_t hidden = 0;  // 0: the tensor is not rotated
  bool rows = false;
  std::vector<std::uint64_t> column_blocks{};  // the first column of each block
};

// One tensor of the child and where its values come from. The steps run in the order listed:
// gather rows, gather columns, append rows, then the value changes, then rounding to the output
// dtype.
struct child_tensor {
  output_tensor target;
  std::optional<std::size_t> source;  // index into stored_model::tensors; nullopt: drawn fresh
  // Empty: the source's values as they are. Else the rows (leading dimension; the elements of a
  // vector) of the source to take, in order: a router's rows follow its experts, permuted neurons
  // and heads their rows.
  std::vector<std::uint64_t> rows{};
  // Empty: every column in order. Else the columns (last dimension) of the source to take.
  std::vector<std::uint64_t> columns{};
  std::uint64_t appended_rows = 0;  // extend-vocab: rows drawn after the source's
  // flip-hidden: rows and columns of the child (after the gathers) whose values change sign; a
  // sign-bit flip, exact in every float dtype.
  std::vector<std::uint64_t> negated_rows{}, negated_columns{};
  std::vector<norm_scaling> scalings{};
  double relative_noise = 0.0;  // upcycle: noise added to this copy of a dense MLP
  // fold-norms and rotate-hidden, in this order after the steps above, in double: the folded
  // norm's values become 1; readers multiply their columns by the norms they read; then the
  // rotation. One rounding to the output dtype at the end.
  bool unit_values = false;
  std::vector<norm_fold> folds{};
  residual_rotation rotation{};
};

// What a derivation changes in config.json: keys that replace the parent's, and keys added to the
// "lineage_synth" provenance (what a test needs to hold the child against the parent).
struct derivation_record {
  nlohmann::json config = nlohmann::json::object();
  nlohmann::json provenance = nlohmann::json::object();
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
