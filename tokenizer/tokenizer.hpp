#pragma once
// A Hugging Face tokenizer.json as untrusted input: the vocabulary (BPE, Unigram or WordPiece),
// the BPE merges in rank order, the added tokens, and which family's spelling the pieces use.
// Only what a vocabulary comparison needs is kept; normalisers and pre-tokenizers matter only
// through the two flags byte_level and sentencepiece.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lineage {

// A tokenizer.json (or tokenizer_config.json) larger than this is refused before it is read. Real
// ones are 2-12 MB (Llama 3: 9 MB, Qwen 3: 11 MB).
inline constexpr std::uint64_t max_tokenizer_file_bytes = 256ull << 20;
// Ids above this are refused: the largest real vocabularies have about 2^18 entries, and an id is
// an embedding row.
inline constexpr std::uint64_t max_token_id = (1u << 24) - 1;

enum class tokenizer_kind { bpe, unigram, wordpiece };

struct vocabulary_token {
  std::uint32_t id = 0;
  std::string piece;     // as spelled in tokenizer.json (UTF-8)
  bool in_model = false; // listed in model.vocab
  bool added = false;    // listed in added_tokens
  bool special = false;  // a special added token, or named special in tokenizer_config.json
};

struct merge_rule {
  std::string left;
  std::string right;
};

struct tokenizer_vocabulary {
  std::string source;  // the file, for messages and reports
  tokenizer_kind kind = tokenizer_kind::bpe;
  // model.vocab and the added tokens beyond it: ids unique, sorted by id, pieces unique.
  std::vector<vocabulary_token> tokens;
  std::vector<merge_rule> merges;  // BPE: in rank order (rank = index)
  // Byte-level BPE: a ByteLevel pre-tokenizer or decoder (possibly inside a Sequence); every
  // model piece spells bytes through the GPT-2 table.
  bool byte_level = false;
  // SentencePiece spelling (not byte level): a Metaspace step or a '▁' replacement in the
  // normaliser, pre-tokenizer or decoder, a Unigram model, or byte_fallback; '▁' is the space and
  // <0xNN> tokens are single bytes.
  bool sentencepiece = false;
  std::string continuing_subword_prefix;  // WordPiece: "##" unless the file says otherwise
  [[nodiscard]] std::uint64_t model_pieces() const noexcept;
  [[nodiscard]] std::uint64_t added_count() const noexcept;
  [[nodiscard]] std::uint64_t special_count() const noexcept;
};

[[nodiscard]] std::string_view tokenizer_kind_name(tokenizer_kind kind) noexcept;

// Parses the bytes of a tokenizer.json. Throws input_error "<file_label>: <what>" (one line,
// naming the key) for invalid JSON, duplicate keys, a missing or unknown model, values of the
// wrong type, duplicate ids or pieces, ids beyond max_token_id, merges that are not two pieces
// of the vocabulary, and added tokens that contradict the vocabulary.
tokenizer_vocabulary parse_tokenizer_json(std::string_view text, const std::string& file_label);

// Marks as special the tokens that a tokenizer_config.json names: bos/eos/unk/pad/sep/cls/mask
// tokens (strings or {"content": ...}), additional_special_tokens, and added_tokens_decoder
// entries with "special": true. Names absent from the vocabulary are ignored.
void apply_tokenizer_config(std::string_view text, const std::string& file_label, tokenizer_vocabulary& vocabulary);

// `path` is a tokenizer.json or a directory holding one; a tokenizer_config.json beside it is read
// when present. Throws input_error naming the path when there is no tokenizer.json or a file is
// larger than max_tokenizer_file_bytes.
tokenizer_vocabulary read_tokenizer(const std::filesystem::path& path);

// read_tokenizer of both; when the two files (and their tokenizer_config.json) hold the same bytes,
// the text is parsed once and B's vocabulary is a copy of A's under B's file name.
std::pair<tokenizer_vocabulary, tokenizer_vocabulary> read_tokenizers(const std::filesystem::path& a,
                                                                      const std::filesystem::path& b);

}  // namespace lineage
