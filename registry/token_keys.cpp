#include "registry/token_keys.hpp"

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>

#include "core/content_hash.hpp"
#include "tokenizer/byte_normalise.hpp"

namespace lineage {
namespace {

std::uint64_t key_of(const std::string& bytes) {
  return fast_hash(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
}

// Keeps the lowest id of each key, then the `count` smallest keys.
std::vector<keyed_token> bottom(std::vector<keyed_token> tokens, std::size_t count) {
  std::sort(tokens.begin(), tokens.end(),
            [](const keyed_token& x, const keyed_token& y) { return x.key != y.key ? x.key < y.key : x.id < y.id; });
  tokens.erase(std::unique(tokens.begin(), tokens.end(),
                           [](const keyed_token& x, const keyed_token& y) { return x.key == y.key; }),
               tokens.end());
  if (tokens.size() > count) tokens.resize(count);
  return tokens;
}

}  // namespace

std::vector<keyed_token> sampled_tokens(const tokenizer_vocabulary& vocabulary, std::uint64_t rows, std::size_t count) {
  std::vector<keyed_token> tokens;
  tokens.reserve(vocabulary.tokens.size());
  for (const vocabulary_token& token : vocabulary.tokens) {
    if (token.special || token.id >= rows) continue;
    const std::string bytes = token_bytes(vocabulary, token);
    if (bytes.empty()) continue;
    tokens.push_back({key_of(bytes), token.id});
  }
  return bottom(std::move(tokens), count);
}

std::vector<keyed_token> sampled_ids(std::uint64_t rows, std::size_t count) {
  std::vector<keyed_token> tokens;
  tokens.reserve(static_cast<std::size_t>(rows));
  for (std::uint64_t id = 0; id < rows && id <= max_token_id; ++id)
    tokens.push_back({key_of("id:" + std::to_string(id)), static_cast<std::uint32_t>(id)});
  return bottom(std::move(tokens), count);
}

}  // namespace lineage
