#include "tokenizer/byte_normalise.hpp"

#include "core/byte_unicode.hpp"
#include "tokenizer/tokenizer_text.hpp"

namespace lineage {
namespace {

std::string byte_level_bytes(const std::string& piece) {
  const auto points = decode_utf8(piece);
  if (!points) return piece;
  std::string bytes;
  bytes.reserve(points->size());
  for (const char32_t point : *points) {
    const auto byte = byte_of_code_point(point);
    if (!byte) return piece;
    bytes.push_back(static_cast<char>(*byte));
  }
  return bytes;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string sentencepiece_bytes(const std::string& piece) {
  if (piece.size() == 6 && piece.starts_with("<0x") && piece.back() == '>') {
    const int high = hex_digit(piece[3]), low = hex_digit(piece[4]);
    if (high >= 0 && low >= 0) return std::string(1, static_cast<char>(high * 16 + low));
  }
  std::string bytes;
  bytes.reserve(piece.size());
  for (std::size_t i = 0; i < piece.size();) {
    if (piece.compare(i, sentencepiece_space.size(), sentencepiece_space) == 0) {
      bytes.push_back(' ');
      i += sentencepiece_space.size();
    } else {
      bytes.push_back(piece[i++]);
    }
  }
  return bytes;
}

std::string wordpiece_bytes(const std::string& piece, const std::string& prefix) {
  if (!prefix.empty() && piece.starts_with(prefix)) return piece.substr(prefix.size());
  return " " + piece;
}

}  // namespace

std::string piece_bytes(const tokenizer_vocabulary& vocabulary, const std::string& piece) {
  if (vocabulary.byte_level) return byte_level_bytes(piece);
  if (vocabulary.sentencepiece) return sentencepiece_bytes(piece);
  if (vocabulary.kind == tokenizer_kind::wordpiece) return wordpiece_bytes(piece, vocabulary.continuing_subword_prefix);
  return piece;
}

std::string token_bytes(const tokenizer_vocabulary& vocabulary, const vocabulary_token& token) {
  return token.added ? token.piece : piece_bytes(vocabulary, token.piece);
}

std::vector<std::pair<std::string, std::string>> merge_bytes(const tokenizer_vocabulary& vocabulary) {
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(vocabulary.merges.size());
  for (const auto& rule : vocabulary.merges)
    merges.emplace_back(piece_bytes(vocabulary, rule.left), piece_bytes(vocabulary, rule.right));
  return merges;
}

}  // namespace lineage
