#pragma once
// Which RMSNorm weight each linear layer of a synth-written model reads, and from which column: the
// map along which rescale-norms moves factors and fold-norms folds whole norms. q/k/v read the
// layer's input norm; gate/up (dense, every expert, shared experts) and the router its
// post-attention norm; eh_proj reads enorm on its first half of columns and hnorm on the second;
// shared_head.head its block's shared_head.norm; lm_head and score the final norm.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "synth/derive_plan.hpp"
#include "synth/model_reader.hpp"

namespace lineage::synth {

struct layer_norms {
  std::string input, post_attention, embedding, hidden, head;  // empty: the layer has none
};

// The norm vectors of the parent, by layer.
struct norm_index {
  std::map<std::uint64_t, layer_norms> layers;
  std::map<std::string, std::uint64_t> lengths;  // by norm name
  std::map<std::string, std::size_t> sources;    // by norm name: index into stored_model::tensors
  bool has_final = false, has_lm_head = false;
  std::set<std::uint64_t> own_heads;  // MTP layers with their own shared_head.head
};

// Indexes the norms among the sources of `planned`; `option` names the kind in errors. Throws
// input_error for a norm that is not a vector.
norm_index index_norms(const stored_model& parent, const std::vector<child_tensor>& planned, const char* option);

struct norm_read {
  std::string norm;
  std::uint64_t first_column = 0;
};

// The norms that a tensor named `source` reads through its columns, in column order; empty for a
// tensor that reads none (norms, writers, biases, buffers, the embedding) and for lm_head and score
// when there is no final norm. Throws input_error when a layer lacks the norm its reader needs.
std::vector<norm_read> norms_read_by(const norm_index& index, const std::string& source, const char* option);

}  // namespace lineage::synth
