// Reading tokenizer.json: BPE (both merge spellings), Unigram, WordPiece, added tokens, the
// spelling flags, tokenizer_config.json special tokens, and files or directories.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

using lineage::parse_tokenizer_json;
using lineage::tokenizer_kind;

constexpr const char* byte_level_bpe = R"({
  "added_tokens": [{"id": 5, "content": "<|end|>", "special": true}],
  "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split"}, {"type": "ByteLevel"}]},
  "decoder": {"type": "ByteLevel"},
  "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "Ġ": 2, "ab": 3, "Ġab": 4},
            "merges": ["a b", "Ġ ab"]}})";

TEST(TokenizerReading, ByteLevelBpeWithStringMerges) {
  const auto v = parse_tokenizer_json(byte_level_bpe, "t.json");
  EXPECT_EQ(v.kind, tokenizer_kind::bpe);
  EXPECT_TRUE(v.byte_level);
  EXPECT_FALSE(v.sentencepiece);
  ASSERT_EQ(v.tokens.size(), 6u);
  for (std::uint32_t id = 0; id < 6; ++id) EXPECT_EQ(v.tokens[id].id, id);
  EXPECT_EQ(v.tokens[4].piece, "Ġab");
  EXPECT_EQ(v.model_pieces(), 5u);
  EXPECT_TRUE(v.tokens[5].added && v.tokens[5].special && !v.tokens[5].in_model);
  ASSERT_EQ(v.merges.size(), 2u);
  EXPECT_EQ(v.merges[1].left, "Ġ");
  EXPECT_EQ(v.merges[1].right, "ab");
}

TEST(TokenizerReading, PairMergesReadAsStringMerges) {
  const auto strings = parse_tokenizer_json(byte_level_bpe, "t.json");
  std::string pairs = byte_level_bpe;
  pairs.replace(pairs.find(R"(["a b", "Ġ ab"])"), std::string(R"(["a b", "Ġ ab"])").size(),
                R"([["a", "b"], ["Ġ", "ab"]])");
  const auto v = parse_tokenizer_json(pairs, "t.json");
  ASSERT_EQ(v.merges.size(), strings.merges.size());
  for (std::size_t i = 0; i < v.merges.size(); ++i) {
    EXPECT_EQ(v.merges[i].left, strings.merges[i].left);
    EXPECT_EQ(v.merges[i].right, strings.merges[i].right);
  }
}

TEST(TokenizerReading, PairMergesMayHoldSpaces) {
  const auto v = parse_tokenizer_json(
      R"({"model": {"type": "BPE", "vocab": {"a ": 0, "b": 1}, "merges": [["a ", "b"]]}})", "t.json");
  EXPECT_EQ(v.merges.at(0).left, "a ");
}

TEST(TokenizerReading, SentencePieceBpeWithByteFallback) {
  const auto v = parse_tokenizer_json(R"({
    "added_tokens": [{"id": 0, "content": "<unk>", "special": true}],
    "normalizer": {"type": "Sequence", "normalizers": [{"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
    "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}]},
    "model": {"type": "BPE", "byte_fallback": true, "vocab": {"<unk>": 0, "<0x0A>": 1, "▁": 2, "t": 3, "▁t": 4},
              "merges": ["▁ t"]}})",
                                      "sp.json");
  EXPECT_FALSE(v.byte_level);
  EXPECT_TRUE(v.sentencepiece);
  ASSERT_EQ(v.tokens.size(), 5u);
  EXPECT_TRUE(v.tokens[0].in_model && v.tokens[0].added && v.tokens[0].special);
}

TEST(TokenizerReading, UnigramIdsArePositions) {
  const auto v = parse_tokenizer_json(
      R"({"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["▁the", -2.5], ["s", -3]]}})", "u.json");
  EXPECT_EQ(v.kind, tokenizer_kind::unigram);
  EXPECT_TRUE(v.sentencepiece);
  ASSERT_EQ(v.tokens.size(), 3u);
  EXPECT_EQ(v.tokens[1].piece, "▁the");
  EXPECT_EQ(v.tokens[2].id, 2u);
  EXPECT_TRUE(v.merges.empty());
}

TEST(TokenizerReading, WordPieceKeepsItsPrefix) {
  const auto v = parse_tokenizer_json(
      R"({"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "play": 1, "##ing": 2}}})", "w.json");
  EXPECT_EQ(v.kind, tokenizer_kind::wordpiece);
  EXPECT_EQ(v.continuing_subword_prefix, "##");
  const auto other = parse_tokenizer_json(
      R"({"model": {"type": "WordPiece", "continuing_subword_prefix": "@@", "vocab": {"a": 0}}})", "w.json");
  EXPECT_EQ(other.continuing_subword_prefix, "@@");
}

TEST(TokenizerReading, ModelTypeInferredWhenMissing) {
  EXPECT_EQ(parse_tokenizer_json(R"({"model": {"vocab": {"a": 0}, "merges": []}})", "t").kind, tokenizer_kind::bpe);
  EXPECT_EQ(parse_tokenizer_json(R"({"model": {"vocab": [["a", 0]]}})", "t").kind, tokenizer_kind::unigram);
}

TEST(TokenizerReading, ConfigNamesSpecialTokens) {
  auto v = parse_tokenizer_json(byte_level_bpe, "t.json");
  lineage::apply_tokenizer_config(
      R"({"bos_token": {"content": "a", "lstrip": false}, "eos_token": "b", "pad_token": null,
          "additional_special_tokens": ["ab", "not-there"],
          "added_tokens_decoder": {"2": {"content": "Ġ", "special": true}, "4": {"content": "Ġab", "special": false}}})",
      "tokenizer_config.json", v);
  EXPECT_EQ(v.special_count(), 5u);  // a, b, ab, Ġ and the added <|end|>
  EXPECT_FALSE(v.tokens[4].special);
}

TEST(TokenizerReading, DirectoryOrFile) {
  const auto dir = std::filesystem::path(LINEAGE_BINARY_DIR) / "test-work" / "tokenizer-reading";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tokenizer.json") << byte_level_bpe;
  std::ofstream(dir / "tokenizer_config.json") << R"({"eos_token": "ab"})";
  const auto from_dir = lineage::read_tokenizer(dir);
  const auto from_file = lineage::read_tokenizer(dir / "tokenizer.json");
  EXPECT_EQ(from_dir.tokens.size(), 6u);
  EXPECT_EQ(from_dir.source, (dir / "tokenizer.json").string());
  EXPECT_TRUE(from_file.tokens[3].special);
  std::filesystem::remove(dir / "tokenizer.json");
  try {
    lineage::read_tokenizer(dir);
    FAIL() << "a directory without tokenizer.json was read";
  } catch (const lineage::input_error& e) {
    EXPECT_NE(std::string(e.what()).find("no tokenizer.json"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

// Two models that ship the same tokenizer bytes: parsed once, each under its own file name; a
// tokenizer_config.json that differs makes them two readings.
TEST(TokenizerReading, TheSameBytesBesideBothModelsAreParsedOnce) {
  const auto dir = std::filesystem::path(LINEAGE_BINARY_DIR) / "test-work" / "tokenizer-pair";
  std::filesystem::remove_all(dir);
  for (const char* side : {"a", "b"}) {
    std::filesystem::create_directories(dir / side);
    std::ofstream(dir / side / "tokenizer.json") << byte_level_bpe;
  }
  const auto [a, b] = lineage::read_tokenizers(dir / "a", dir / "b");
  EXPECT_EQ(a.source, (dir / "a" / "tokenizer.json").string());
  EXPECT_EQ(b.source, (dir / "b" / "tokenizer.json").string());
  ASSERT_EQ(a.tokens.size(), b.tokens.size());
  for (std::size_t i = 0; i < a.tokens.size(); ++i) EXPECT_EQ(a.tokens[i].piece, b.tokens[i].piece);
  EXPECT_EQ(a.merges.size(), b.merges.size());
  std::ofstream(dir / "b" / "tokenizer_config.json") << R"({"eos_token": "ab"})";
  const auto [a2, b2] = lineage::read_tokenizers(dir / "a", dir / "b");
  EXPECT_FALSE(a2.tokens[3].special);
  EXPECT_TRUE(b2.tokens[3].special);
  std::filesystem::remove_all(dir);
}

}  // namespace
