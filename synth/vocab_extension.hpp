#pragma once
// extend-vocab: new tokens appended to the vocabulary, as when a tokenizer gains special or
// domain tokens. The old rows of embed_tokens and lm_head stay bit for bit, so every old token is
// embedded and scored as before.
#include <cstdint>
#include <span>
#include <string_view>

namespace lineage::synth {

// Fills `out` (whole rows of `columns`) with new rows drawn like the old ones: each row N(0,
// sigma^2) with sigma = rms(old) * exp(0.2 g), the row-to-row spread of independent models
// (independent_values.hpp), from the stream of (seed, tensor).
void draw_appended_rows(std::span<const float> old_values, std::uint64_t columns,
                        std::uint64_t seed, std::string_view tensor, std::span<float> out);

}  // namespace lineage::synth
