#pragma once
// tokenizer.json files for generated models: small byte-level BPE vocabularies, as GPT-2, Llama 3
// and Qwen use. A tokenizer of V pieces holds the 256 byte tokens (ids 0..255, in GPT-2's order)
// and V − 256 merges; below 256, the first V byte tokens and no merges (such a tokenizer cannot
// spell every text, which no test of the generated models needs).
//
// Merges follow one fixed "language" (a keyed stream per merge step) and, with probability 1/10
// per step, the tokenizer seed's own choice instead: tokenizers of one seed are identical, those
// of different seeds share most of their vocabulary with the same ids, as tokenizers of one
// family do. Each merge joins two existing pieces, the lower ids preferred (frequent pieces merge
// first in trained BPE), into a piece not yet in the vocabulary.
#include <cstdint>
#include <string>

namespace lineage::synth {

// The text of a tokenizer.json with exactly `vocab` pieces.
std::string independent_tokenizer_json(std::uint64_t vocab, std::uint64_t tokenizer_seed);

// The parent's tokenizer.json (written by synth, `vocab` pieces) with `tokens` new pieces, ids
// vocab.., each from a new merge drawn from the derivation's seed. Throws input_error when the
// parent's tokenizer does not have `vocab` pieces or is not a BPE tokenizer.json.
std::string extended_tokenizer_json(const std::string& parent_json, const std::string& parent_label,
                                    std::uint64_t vocab, std::uint64_t tokens, std::uint64_t seed);

}  // namespace lineage::synth
