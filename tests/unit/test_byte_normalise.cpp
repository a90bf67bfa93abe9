// The GPT-2 byte table and the byte normalisation of each tokenizer family.
#include <gtest/gtest.h>

#include <set>

#include "core/byte_unicode.hpp"
#include "tokenizer/byte_normalise.hpp"

namespace {

using lineage::tokenizer_kind;
using lineage::tokenizer_vocabulary;
using lineage::vocabulary_token;

TEST(ByteTable, AllBytesRoundTrip) {
  std::set<char32_t> seen;
  for (unsigned byte = 0; byte < 256; ++byte) {
    const char32_t point = lineage::byte_level_code_points()[byte];
    EXPECT_TRUE(seen.insert(point).second) << "two bytes share U+" << std::hex << static_cast<std::uint32_t>(point);
    const auto back = lineage::byte_of_code_point(point);
    ASSERT_TRUE(back.has_value()) << byte;
    EXPECT_EQ(*back, byte);
    const std::string bytes(1, static_cast<char>(byte));
    const auto spelled = lineage::byte_level_spelling(bytes);
    const auto decoded = lineage::decode_utf8(spelled);
    ASSERT_TRUE(decoded && decoded->size() == 1) << byte;
    EXPECT_EQ((*decoded)[0], point);
  }
  EXPECT_EQ(lineage::byte_level_code_points()[' '], U'Ġ');
  EXPECT_EQ(lineage::byte_level_code_points()['\n'], U'Ċ');
  EXPECT_EQ(lineage::byte_level_code_points()['A'], U'A');
  EXPECT_FALSE(lineage::byte_of_code_point(U' ').has_value());
  EXPECT_FALSE(lineage::byte_of_code_point(U'▁').has_value());
}

TEST(ByteTable, AlphabetOrderIsGpt2Order) {
  const auto& order = lineage::byte_level_alphabet_order();
  EXPECT_EQ(order[0], '!');
  EXPECT_EQ(order[93], '~');
  EXPECT_EQ(order[94], 0xA1);
  EXPECT_EQ(order[188], 0x00);  // the 68 substituted bytes come last
  EXPECT_EQ(order[188 + 32], ' ');
  EXPECT_EQ(std::set<std::uint8_t>(order.begin(), order.end()).size(), 256u);
}

TEST(ByteTable, Utf8DecodingRefusesInvalidText) {
  EXPECT_EQ(lineage::decode_utf8("aĠ▁😀")->size(), 4u);
  for (const std::string bad : {"\x80", "\xC0\xAF", "\xE2\x96", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xFF"})
    EXPECT_FALSE(lineage::decode_utf8(bad).has_value()) << bad;
}

tokenizer_vocabulary family(tokenizer_kind kind, bool byte_level, bool sentencepiece) {
  tokenizer_vocabulary v;
  v.kind = kind;
  v.byte_level = byte_level;
  v.sentencepiece = sentencepiece;
  if (kind == tokenizer_kind::wordpiece) v.continuing_subword_prefix = "##";
  return v;
}

TEST(ByteNormalise, ByteLevelPiecesAreTheirBytes) {
  const auto v = family(tokenizer_kind::bpe, true, false);
  EXPECT_EQ(lineage::piece_bytes(v, "Ġthe"), " the");
  EXPECT_EQ(lineage::piece_bytes(v, "ĊĊ"), "\n\n");
  EXPECT_EQ(lineage::piece_bytes(v, "Ã©"), "\xC3\xA9");  // é as its two UTF-8 bytes
  EXPECT_EQ(lineage::piece_bytes(v, "▁x"), "▁x");        // outside the table: kept as it is
  const vocabulary_token added{7, "<|endoftext|>", false, true, true};
  EXPECT_EQ(lineage::token_bytes(v, added), "<|endoftext|>");
  const vocabulary_token added_space{8, "Ġ hi", false, true, false};
  EXPECT_EQ(lineage::token_bytes(v, added_space), "Ġ hi");  // added tokens are literal text
}

TEST(ByteNormalise, SentencePieceSpacesAndByteTokens) {
  const auto v = family(tokenizer_kind::bpe, false, true);
  EXPECT_EQ(lineage::piece_bytes(v, "▁the"), " the");
  EXPECT_EQ(lineage::piece_bytes(v, "▁▁"), "  ");
  EXPECT_EQ(lineage::piece_bytes(v, "<0x0A>"), "\n");
  EXPECT_EQ(lineage::piece_bytes(v, "<0xff>"), "\xFF");
  EXPECT_EQ(lineage::piece_bytes(v, "<0x0G>"), "<0x0G>");
  EXPECT_EQ(lineage::piece_bytes(v, "<0x0A"), "<0x0A");
}

TEST(ByteNormalise, WordPieceStartsWordsWithASpace) {
  const auto v = family(tokenizer_kind::wordpiece, false, false);
  EXPECT_EQ(lineage::piece_bytes(v, "word"), " word");
  EXPECT_EQ(lineage::piece_bytes(v, "##ing"), "ing");
  const auto byte_level = family(tokenizer_kind::bpe, true, false);
  EXPECT_EQ(lineage::piece_bytes(v, "word"), lineage::piece_bytes(byte_level, "Ġword"));
}

TEST(ByteNormalise, CharacterBpeKeepsItsText) {
  const auto v = family(tokenizer_kind::bpe, false, false);
  EXPECT_EQ(lineage::piece_bytes(v, "Ġa"), "Ġa");
}

TEST(ByteNormalise, MergesNormalisePartByPart) {
  auto v = family(tokenizer_kind::bpe, false, true);
  v.merges = {{"▁", "t"}, {"<0x0A>", "x"}};
  const auto merges = lineage::merge_bytes(v);
  ASSERT_EQ(merges.size(), 2u);
  EXPECT_EQ(merges[0], (std::pair<std::string, std::string>{" ", "t"}));
  EXPECT_EQ(merges[1], (std::pair<std::string, std::string>{"\n", "x"}));
}

}  // namespace
