#pragma once
// Token keys for the registry's sketches: a token is known by the bytes it stands for
// (tokenizer/byte_normalise.hpp), hashed, so two tokenizers of one family meet on every token they
// share whatever ids they give it. The sample is the bottom-k of those keys.
#include <cstdint>
#include <optional>
#include <vector>

#include "tokenizer/tokenizer.hpp"

namespace lineage {

struct keyed_token {
  std::uint64_t key = 0;
  std::uint32_t id = 0;
};

// The `count` tokens with the smallest keys among the vocabulary's ordinary tokens (special tokens
// are left out: their rows are often untrained or reserved), ids below `rows` (the embedding's rows),
// in ascending key order; pieces standing for the same bytes keep the lowest id.
[[nodiscard]] std::vector<keyed_token> sampled_tokens(const tokenizer_vocabulary& vocabulary, std::uint64_t rows,
                                                      std::size_t count);

// Without a tokenizer: ids keyed as the text "id:N", which only models of one tokenizer share.
[[nodiscard]] std::vector<keyed_token> sampled_ids(std::uint64_t rows, std::size_t count);

}  // namespace lineage
