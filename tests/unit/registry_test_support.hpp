#pragma once
// Fingerprints made in memory for the registry's unit tests: Gaussian token rows and attention
// sketches from a seed, and copies of them disguised the way a derivative would be.
#include <cstdint>
#include <filesystem>
#include <string>

#include "registry/fingerprint.hpp"

namespace lineage::testing {

struct sketch_shape {
  std::uint64_t tokens = 256, hidden = 32, frame = 32, layers = 2, heads = 8, kv_heads = 2, head_dim = 8;
};

// An independent fingerprint: every value N(0, 1) from `seed`; token keys 1 … tokens (shared by all).
[[nodiscard]] model_fingerprint random_fingerprint(std::uint64_t seed, const sketch_shape& shape = {});

// `f` with N(0, scale²) added to every value (a fine-tuned copy).
[[nodiscard]] model_fingerprint with_noise(model_fingerprint f, double scale, std::uint64_t seed);

// `f` with its token rows' hidden dimensions permuted (a residual stream permuted: the attention
// sketches, read in the token frame, do not change).
[[nodiscard]] model_fingerprint hidden_permuted(model_fingerprint f, std::uint64_t seed);

// A fresh temporary directory for one test.
[[nodiscard]] std::filesystem::path scratch_directory(const std::string& name);

}  // namespace lineage::testing
