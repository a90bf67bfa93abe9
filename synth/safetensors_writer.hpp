#pragma once
// Writing a model directory: safetensors files (one, or N shards plus model.safetensors.index.json)
// and config.json. Tensor bytes are produced one tensor at a time by a callback and streamed to the
// file, so a model is never held in memory.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.hpp"
#include "synth/synth.hpp"

namespace lineage::synth {

struct output_tensor {
  std::string name;
  dtype type = dtype::bf16;
  std::vector<std::uint64_t> shape;
  [[nodiscard]] std::uint64_t element_count() const noexcept;
  [[nodiscard]] std::uint64_t byte_length() const noexcept;
};

// Fills `bytes` (exactly byte_length() of tensors[index]) with the values of that tensor.
using tensor_filler = std::function<void(std::size_t index, std::span<std::byte> bytes)>;

// "model.safetensors" for one file, else "model-0000K-of-0000N.safetensors" (K from 1).
std::string shard_file_name(std::uint32_t index, std::uint32_t count);

// Splits tensors, kept in name order, into `shards` contiguous non-empty runs balanced by bytes.
// Returns shards + 1 boundaries: shard k holds tensors [bounds[k], bounds[k + 1]).
std::vector<std::size_t> balance_shards(std::span<const std::uint64_t> byte_lengths,
                                        std::uint32_t shards);

// The JSON header of one file (offsets relative to the data section), padded with spaces so that
// the data section starts at a multiple of 8 bytes.
std::string safetensors_header_text(std::span<const output_tensor> tensors);

// Writes the whole directory: tensors (sorted by name, unique) into `shards` files, the index when
// shards > 1, tokenizer.json when `tokenizer_json` is not empty, and config.json last, each through
// a temporary name. Earlier model files in `dir` that the new layout does not overwrite are removed
// first, so a reader never sees a mixture.
written_model write_model_directory(const std::filesystem::path& dir, const nlohmann::json& config,
                                    const std::vector<output_tensor>& tensors, std::uint32_t shards,
                                    const tensor_filler& fill, std::string_view tokenizer_json = {});

}  // namespace lineage::synth
