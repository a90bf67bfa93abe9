#include "synth/norm_folding.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include "core/error.hpp"
#include "synth/disguise.hpp"
#include "synth/norm_readers.hpp"
#include "synth/weight_names.hpp"

namespace lineage::synth {

namespace {

constexpr std::string_view head_norm_suffix = "shared_head.norm.weight";

const child_tensor* find_kind(const stored_model& parent, const std::vector<child_tensor>& planned, weight_kind kind) {
  for (const auto& tensor : planned)
    if (classify_weight(source_of(parent, tensor).name).kind == kind) return &tensor;
  return nullptr;
}

// The heads fold-norms needs and the parent lacks: lm_head when the embeddings are tied (copied
// from embed_tokens), and shared_head.head for an MTP block that scores through lm_head (copied
// from lm_head). Returns the names added; sets `untied`.
std::vector<std::string> add_missing_heads(const stored_model& parent, std::vector<child_tensor>& planned,
                                           bool& untied) {
  std::vector<child_tensor> added;
  const child_tensor* head = find_kind(parent, planned, weight_kind::lm_head);
  const child_tensor* embedding = find_kind(parent, planned, weight_kind::embedding);
  untied = head == nullptr && embedding != nullptr && find_kind(parent, planned, weight_kind::final_norm) != nullptr;
  if (untied) {
    added.push_back({.target = embedding->target, .source = embedding->source});
    added.back().target.name = "lm_head.weight";
  }
  std::optional<child_tensor> scoring;  // the tensor the MTP block scores through
  if (untied)
    scoring = added.back();
  else if (head != nullptr)
    scoring = *head;
  std::set<std::uint64_t> own_heads;
  for (const auto& tensor : planned)
    if (classify_weight(tensor.target.name).kind == weight_kind::mtp_head)
      own_heads.insert(classify_weight(tensor.target.name).layer);
  for (const auto& tensor : planned) {
    const auto name = classify_weight(tensor.target.name);
    if (name.kind != weight_kind::mtp_head_norm || own_heads.count(name.layer) > 0 || !scoring) continue;
    child_tensor copy{.target = scoring->target, .source = scoring->source};
    const std::string& norm = tensor.target.name;
    copy.target.name = norm.substr(0, norm.size() - head_norm_suffix.size()) + "shared_head.head.weight";
    added.push_back(std::move(copy));
  }
  std::vector<std::string> names;
  for (auto& tensor : added) {
    names.push_back(tensor.target.name);
    planned.push_back(std::move(tensor));
  }
  std::sort(planned.begin(), planned.end(),
            [](const child_tensor& x, const child_tensor& y) { return x.target.name < y.target.name; });
  return names;
}

// Adds to `tensor` the folds of the norms it reads (by its own name: the heads added above read
// their norms although their sources are other tensors); returns the norms read.
std::vector<std::string> plan_folds(const norm_index& index, const stored_tensor& source, const char* option,
                                    child_tensor& tensor) {
  std::vector<std::string> read;
  for (const auto& [norm, first_column] : norms_read_by(index, tensor.target.name, option)) {
    const std::uint64_t length = index.lengths.at(norm);
    if (source.shape.size() != 2 || first_column + length > source.shape[1])
      throw input_error(
          fmt::format("synth derive: {}: {} has too few columns to read norm {} ({} elements) from "
                      "column {}",
                      option, tensor.target.name, norm, length, first_column));
    tensor.folds.push_back({index.sources.at(norm), first_column, length});
    read.push_back(norm);
  }
  return read;
}

}  // namespace

derivation_record fold_every_norm(const stored_model& parent, std::vector<child_tensor>& planned, const char* option) {
  bool untied = false;
  const auto added = add_missing_heads(parent, planned, untied);
  const norm_index index = index_norms(parent, planned, option);
  std::set<std::string> read;
  for (auto& tensor : planned)
    for (auto& norm : plan_folds(index, source_of(parent, tensor), option, tensor)) read.insert(std::move(norm));
  std::vector<std::string> folded, kept;
  for (auto& tensor : planned) {
    const auto& source = source_of(parent, tensor);
    if (!is_hidden_norm(classify_weight(source.name).kind)) continue;
    tensor.unit_values = read.count(source.name) > 0;
    (tensor.unit_values ? folded : kept).push_back(source.name);
  }
  if (folded.empty())
    throw usage_error(fmt::format("synth derive: {}: the parent has no RMSNorm weight to fold", option));
  derivation_record record;
  if (untied) record.config["tie_word_embeddings"] = false;
  record.provenance["norm_folding"] = {{"norms", folded}, {"kept", kept}, {"added", added}, {"untied", untied}};
  return record;
}

derivation_record plan_norm_folding(const stored_model& parent, const derivation& /*how*/,
                                    std::vector<child_tensor>& planned) {
  return fold_every_norm(parent, planned, "--kind fold-norms");
}

}  // namespace lineage::synth
