#pragma once
// A checkpoint described by its tensor shapes alone, for planning (`lineage plan`): a JSON file
//
//   {"model_type": "glm4_moe", "config": {...}, "source": "...",
//    "tensors": [{"name": "model.embed_tokens.weight", "dtype": "BF16", "shape": [151552, 4096]}, ...]}
//
// model_type (string) and tensors (a non-empty array) are required; config (an object, config.json's
// contents; its model_type, if any, must agree) and source (a string: where the shapes came from)
// are optional; no other keys. Each tensor has exactly name (a non-empty string, unique), dtype (a
// safetensors dtype lineage reads) and shape (an array of non-negative integers whose product fits
// 64 bits). The result is an in-memory checkpoint of one virtual file (named by the path itself),
// with the tensors laid out in name order; it must never be read.
#include <filesystem>

#include "checkpoint/checkpoint.hpp"

namespace lineage {

// Throws input_error "<path>: <where>: <what>" (one line, naming the file and the key) on anything
// the format above does not allow.
checkpoint read_shape_list(const std::filesystem::path& path);

// True when `path` names a shape list rather than a checkpoint: a regular file ending in ".json".
bool is_shape_list_path(const std::filesystem::path& path);

}  // namespace lineage
