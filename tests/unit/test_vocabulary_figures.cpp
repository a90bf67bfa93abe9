// The vocabulary comparison on small hand-made vocabularies: sizes, shares, Jaccard, same ids,
// merges and their rank correlation, added and special tokens, examples, and the shared id pairs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "reduce/vocabulary_figures.hpp"
#include "report/vocabulary_report.hpp"

namespace {

using lineage::parse_tokenizer_json;

// Byte level: 0 a, 1 b, 2 Ġ, 3 ab, 4 Ġa, 5 <|end|> (added, special).
const auto byte_level = parse_tokenizer_json(R"({
  "added_tokens": [{"id": 5, "content": "<|end|>", "special": true}],
  "pre_tokenizer": {"type": "ByteLevel"},
  "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "Ġ": 2, "ab": 3, "Ġa": 4}, "merges": ["a b", "Ġ a"]}})",
                                             "a.json");
// SentencePiece: 0 <unk> (added, special), 1 ▁, 2 a, 3 b, 4 <0x20> (the space again), 5 ▁a, 6 ba.
const auto sentencepiece = parse_tokenizer_json(R"({
  "added_tokens": [{"id": 0, "content": "<unk>", "special": true}],
  "decoder": {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
  "model": {"type": "BPE", "vocab": {"<unk>": 0, "▁": 1, "a": 2, "b": 3, "<0x20>": 4, "▁a": 5, "ba": 6},
            "merges": [["▁", "a"], ["b", "a"]]}})",
                                                "b.json");

TEST(VocabularyFigures, IdenticalTokenizers) {
  const auto c = lineage::compare_vocabularies(byte_level, byte_level);
  for (const auto* f : {&c.raw, &c.bytes}) {
    EXPECT_EQ(f->size_a, 6u);
    EXPECT_EQ(f->shared, 6u);
    EXPECT_EQ(f->same_id, 6u);
    EXPECT_DOUBLE_EQ(f->jaccard, 1.0);
    EXPECT_EQ(f->merges_shared, 2u);
    EXPECT_DOUBLE_EQ(f->merge_rank_spearman, 1.0);
    EXPECT_EQ(f->special_shared, 1u);
    EXPECT_EQ(f->added_shared, 1u);
    EXPECT_TRUE(f->only_a.empty() && f->only_b.empty());
  }
}

TEST(VocabularyFigures, RawStringsAcrossFamilies) {
  const auto f = lineage::compare_vocabularies(byte_level, sentencepiece).raw;
  EXPECT_EQ(f.size_a, 6u);
  EXPECT_EQ(f.size_b, 7u);
  EXPECT_EQ(f.folded_b, 0u);
  EXPECT_EQ(f.shared, 2u);  // a and b
  EXPECT_EQ(f.same_id, 0u);
  EXPECT_DOUBLE_EQ(f.share_of_a, 2.0 / 6);
  EXPECT_DOUBLE_EQ(f.share_of_b, 2.0 / 7);
  EXPECT_DOUBLE_EQ(f.jaccard, 2.0 / 11);
  EXPECT_EQ(f.merges_shared, 0u);
  EXPECT_TRUE(std::isnan(f.merge_rank_spearman));
  EXPECT_EQ(f.special_a, 1u);
  EXPECT_EQ(f.special_b, 1u);
  EXPECT_EQ(f.special_shared, 0u);
  ASSERT_EQ(f.only_a.size(), 4u);
  EXPECT_EQ(f.only_a[0].piece, "Ġ");
  EXPECT_EQ(f.only_a[0].id, 2u);
  ASSERT_EQ(f.shared_examples.size(), 2u);
  EXPECT_EQ(f.shared_examples[0].a.piece, "a");
  EXPECT_EQ(f.shared_examples[0].b.id, 2u);
}

TEST(VocabularyFigures, BytesAcrossFamilies) {
  const auto f = lineage::compare_vocabularies(byte_level, sentencepiece).bytes;
  EXPECT_EQ(f.size_b, 6u);  // <0x20> folds onto ▁ (lower id)
  EXPECT_EQ(f.folded_b, 1u);
  EXPECT_EQ(f.shared, 4u);  // a, b, space, " a"
  EXPECT_EQ(f.same_id, 0u);
  EXPECT_DOUBLE_EQ(f.jaccard, 4.0 / 8);
  EXPECT_EQ(f.merges_shared, 1u);  // (" ", "a")
  EXPECT_TRUE(std::isnan(f.merge_rank_spearman));
  ASSERT_EQ(f.shared_examples.size(), 4u);
  EXPECT_EQ(f.shared_examples[2].a.piece, "Ġ");
  EXPECT_EQ(f.shared_examples[2].b.piece, "▁");
  ASSERT_EQ(f.only_b.size(), 2u);
  EXPECT_EQ(f.only_b[0].piece, "<unk>");
  EXPECT_EQ(f.only_b[1].piece, "ba");
}

TEST(VocabularyFigures, MergeRanksReversedGiveMinusOne) {
  const auto forward = parse_tokenizer_json(
      R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2}, "merges": ["a b", "b c", "c a"]}})", "f");
  const auto backward = parse_tokenizer_json(
      R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2}, "merges": ["c a", "b c", "a b", "a a"]}})", "b");
  const auto f = lineage::compare_vocabularies(forward, backward).raw;
  EXPECT_EQ(f.merges_a, 3u);
  EXPECT_EQ(f.merges_b, 4u);
  EXPECT_EQ(f.merges_shared, 3u);
  EXPECT_DOUBLE_EQ(f.merge_rank_spearman, -1.0);
}

TEST(VocabularyFigures, ExamplesAreCappedLowestIdsFirst) {
  const auto c = lineage::compare_vocabularies(byte_level, sentencepiece, 1);
  EXPECT_EQ(c.raw.only_a.size(), 1u);
  EXPECT_EQ(c.raw.only_a[0].id, 2u);
  EXPECT_EQ(c.raw.shared_examples.size(), 1u);
}

TEST(VocabularyFigures, SharedIdPairsFollowTheBytes) {
  const auto pairs = lineage::shared_token_ids(byte_level, sentencepiece);
  const std::vector<std::pair<std::uint32_t, std::uint32_t>> expected = {{0, 2}, {1, 3}, {2, 1}, {4, 5}};
  EXPECT_EQ(pairs, expected);
  EXPECT_EQ(lineage::compare_vocabularies(byte_level, sentencepiece).shared_ids, expected);
}

// Equal content is compared through one set of views; a copy that differs in one flag is not.
TEST(VocabularyFigures, ACopyDifferingInOneFlagIsComparedInFull) {
  auto copy = byte_level;
  copy.source = "c.json";
  const auto same = lineage::compare_vocabularies(byte_level, copy);
  EXPECT_EQ(same.bytes.shared, 6u);
  EXPECT_EQ(same.raw.special_b, 1u);
  EXPECT_EQ(same.shared_ids.size(), 6u);
  copy.tokens[0].special = true;
  const auto differs = lineage::compare_vocabularies(byte_level, copy);
  EXPECT_EQ(differs.raw.shared, 6u);
  EXPECT_EQ(differs.raw.special_a, 1u);
  EXPECT_EQ(differs.raw.special_b, 2u);
  EXPECT_EQ(differs.raw.special_shared, 1u);
}

TEST(VocabularyReport, TopLevelRawAndBytesSection) {
  const auto c = lineage::compare_vocabularies(byte_level, sentencepiece);
  const auto j = lineage::vocabulary_report_json(byte_level, sentencepiece, c);
  EXPECT_EQ(j.at("format"), "lineage-tokenizers");
  for (const char* key : {"size_a", "size_b", "shared", "jaccard", "same_id"}) {
    EXPECT_TRUE(j.contains(key)) << key;
    EXPECT_TRUE(j.at("bytes").contains(key)) << key;
  }
  EXPECT_EQ(j.at("shared"), 2);
  EXPECT_EQ(j.at("bytes").at("shared"), 4);
  EXPECT_TRUE(j.at("merge_rank_spearman").is_null());
  EXPECT_EQ(j.at("tokenizer_b").at("sentencepiece"), true);
  EXPECT_EQ(j.at("tokenizer_a").at("byte_level"), true);
  EXPECT_NE(j.at("note").get<std::string>().find("not of weights"), std::string::npos);
}

}  // namespace
