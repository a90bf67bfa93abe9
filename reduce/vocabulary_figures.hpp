#pragma once
// Vocabulary comparison of two tokenizers, on the raw piece strings and on the bytes the pieces
// stand for (tokenizer/byte_normalise.hpp). Overlap of vocabularies speaks of tokenizer ancestry, not
// of weights: unrelated weights can share a tokenizer family. The figures that do speak of
// weights come later, from the embedding rows of the shared tokens (shared_token_ids).
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/tokenizer.hpp"

namespace lineage {

inline constexpr std::string_view vocabulary_note =
    "Vocabulary overlap speaks of tokenizer ancestry, not of weights: unrelated models can share a "
    "tokenizer family, and a derivative can extend or replace its tokenizer. Weight evidence comes "
    "from the embedding rows of shared tokens.";

struct token_example {
  std::uint32_t id = 0;
  std::string piece;  // as spelled in tokenizer.json
};

struct shared_example {
  token_example a;
  token_example b;
};

// One way of comparing (raw strings or bytes). A token of one side is shared when the other side
// has a token of the same key (piece, or bytes).
struct overlap_figures {
  std::uint64_t size_a = 0, size_b = 0;  // distinct keys (tokens less folded ones)
  std::uint64_t folded_a = 0, folded_b = 0;  // tokens whose key a lower id already has (bytes only)
  std::uint64_t shared = 0;
  double share_of_a = NAN, share_of_b = NAN;  // shared / size
  double jaccard = NAN;                       // shared / (size_a + size_b − shared)
  std::uint64_t same_id = 0;                  // shared keys with equal ids on both sides
  std::uint64_t merges_a = 0, merges_b = 0;   // distinct merges (BPE)
  std::uint64_t merges_shared = 0;
  // Spearman's ρ of the ranks of the shared merges on the two sides; NaN under two shared merges.
  double merge_rank_spearman = NAN;
  std::uint64_t added_a = 0, added_b = 0, added_shared = 0;        // added tokens, and both added
  std::uint64_t special_a = 0, special_b = 0, special_shared = 0;  // special tokens, and both special
  // At most `examples` each, lowest ids first (of A for shared ones).
  std::vector<token_example> only_a, only_b;
  std::vector<shared_example> shared_examples;
};

struct vocabulary_comparison {
  overlap_figures raw;
  overlap_figures bytes;
  // shared_token_ids(a, b), from the same byte views (not part of the report).
  std::vector<std::pair<std::uint32_t, std::uint32_t>> shared_ids;
};

vocabulary_comparison compare_vocabularies(const tokenizer_vocabulary& a, const tokenizer_vocabulary& b,
                                           std::size_t examples = 10);

// (id in A, id in B) of every byte-normalised token both have, by increasing id in A: the rows of
// the two embeddings that stand for the same token.
std::vector<std::pair<std::uint32_t, std::uint32_t>> shared_token_ids(const tokenizer_vocabulary& a,
                                                                      const tokenizer_vocabulary& b);

}  // namespace lineage
