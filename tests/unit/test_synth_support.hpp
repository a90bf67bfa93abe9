#pragma once
// Helpers for the synth tests: an independent little safetensors parser (so the tests do not trust
// the code under test to read its own output), statistics in double, and scratch directories.
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "synth/synth.hpp"

namespace synth_test {

struct raw_tensor {
  std::string dtype;
  std::vector<std::uint64_t> shape;
  std::uint64_t begin = 0;  // relative to the data section
  std::uint64_t end = 0;
  std::string bytes;
};

struct raw_file {
  std::uint64_t header_length = 0;
  nlohmann::json header;
  std::uint64_t data_length = 0;
  std::map<std::string, raw_tensor> tensors;
};

std::string read_bytes(const std::filesystem::path& path);
nlohmann::json read_json(const std::filesystem::path& path);
raw_file parse_safetensors(const std::filesystem::path& path);

// Every tensor of a model directory (single file or index + shards), by name.
std::map<std::string, raw_tensor> read_model(const std::filesystem::path& dir);

// Decoded values (BF16, F16, F32, F64), exactly.
std::vector<double> values_of(const raw_tensor& tensor);

double cosine(const std::vector<double>& a, const std::vector<double>& b);
double pearson(const std::vector<double>& a, const std::vector<double>& b);
double relative_l2(const std::vector<double>& a, const std::vector<double>& b);  // |b - a| / |a|

// A fresh, empty directory for the running test (under the build tree).
std::filesystem::path scratch_dir(const std::string& label);

// The safetensors/json files of a model directory, by file name.
std::vector<std::string> model_file_names(const std::filesystem::path& dir);

// A derivation of `kind` with `seed` and every other setting at its default.
lineage::synth::derivation derivation_of(lineage::synth::derivation_kind kind, std::uint64_t seed);

// Writes the model derived from `parent` by `how` into a fresh scratch directory named by `label`.
std::filesystem::path derive(const std::filesystem::path& parent, const lineage::synth::derivation& how,
                             const std::string& label);

// Runs `lineage ARGUMENTS...` through the real command line (CLI11 and the synth command).
int run_cli(std::vector<std::string> arguments);

// --- A forward pass in double (test_synth_forward.cpp) ---------------------------------------
// Written from the model definitions, not from synth: embedding -> per layer RMSNorm, attention
// (GQA, causal softmax, q/k/v biases when present, no RoPE: the derivations keep each head's
// dimensions in place), o_proj, residual, RMSNorm, MLP (dense SwiGLU; glm4_moe: sigmoid router
// with correction bias, normalised top-k, shared experts; Mixtral: softmax top-k), residual ->
// final norm -> lm_head (embed_tokens when tied); a score head (score.weight, score.bias) reads the
// final norm too.

using model_tensors = std::map<std::string, raw_tensor>;

struct forward_result {
  std::vector<std::vector<double>> logits;  // [token][vocab]
  // glm4_moe with an MTP block: position t combines the main stack's hidden state at t with the
  // embedding of token t + 1 ([enorm(e); hnorm(h)] through eh_proj), runs the block's decoder
  // layer and scores through shared_head.norm and shared_head.head (lm_head when the block has no
  // head of its own). Empty without an MTP block.
  std::vector<std::vector<double>> mtp_logits;
  std::vector<std::vector<double>> class_logits;  // [token][class]; empty without score.weight
};

forward_result forward_pass(const model_tensors& model, const nlohmann::json& config,
                            const std::vector<std::uint64_t>& tokens);

// |b - a| / |a| over every element of the two tables.
double relative_difference(const std::vector<std::vector<double>>& a,
                           const std::vector<std::vector<double>>& b);

// A small dense Llama shape: 2 layers, hidden 32, intermediate 48, 8 heads on 2 KV heads (so
// query heads move within groups of 4), vocab 64.
lineage::synth::model_shape dense_test_shape();

// A small glm4_moe shape: 1 dense layer, MoE layers 1 and 2 of `experts` experts (width 16) and
// `shared` shared ones, and the MTP block (MoE too) as layer 3.
lineage::synth::model_shape moe_test_shape(std::uint64_t experts, std::uint64_t shared);

}  // namespace synth_test
