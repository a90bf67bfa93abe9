#pragma once
// Small text helpers of the tokenizer reader.
#include <string>
#include <string_view>

namespace lineage {

// SentencePiece's word-start mark U+2581 '▁', which stands for the space.
inline constexpr std::string_view sentencepiece_space = "\xE2\x96\x81";

// A piece quoted for a one-line message: at most 40 bytes (cut at a character boundary, then
// "..."), control characters as \xNN.
std::string shown_piece(std::string_view piece);

}  // namespace lineage
