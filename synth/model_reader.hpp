#pragma once
// A minimal reader for the parent of a derivation: a model directory that `lineage synth` wrote.
// It is trusted input, so this checks only what would otherwise turn into a crash or a silently
// wrong derivation (the strict reader of untrusted checkpoints lives in checkpoint/).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.hpp"

namespace lineage::synth {

struct stored_tensor {
  std::string name;
  dtype type = dtype::bf16;
  std::vector<std::uint64_t> shape;
  std::filesystem::path file;
  std::uint64_t file_offset = 0;  // absolute position of the first byte in `file`
  std::uint64_t byte_length = 0;
  [[nodiscard]] std::uint64_t element_count() const noexcept;
};

struct stored_model {
  nlohmann::json config;
  std::vector<stored_tensor> tensors;  // sorted by name
  std::uint32_t file_count = 0;
  std::string tokenizer_json;  // the text of tokenizer.json; empty when the model has none
};

// Reads config.json, tokenizer.json when present, and the header of every safetensors file
// (model.safetensors, or the files named by model.safetensors.index.json). Throws input_error naming the file when something is missing
// or inconsistent.
stored_model read_stored_model(const std::filesystem::path& dir);

// Reads the bytes of one tensor into `out` (exactly byte_length bytes).
void read_tensor_bytes(const stored_tensor& tensor, std::span<std::byte> out);

}  // namespace lineage::synth
