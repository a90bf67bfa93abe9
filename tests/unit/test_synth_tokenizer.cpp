// The generator's tokenizers: exactly --vocab byte-level BPE pieces, one tokenizer per seed,
// families that share most pieces, and vocabulary extension that keeps every parent piece and id.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "reduce/vocabulary_figures.hpp"
#include "synth/tokenizer_generator.hpp"

namespace {

using lineage::parse_tokenizer_json;
using lineage::synth::extended_tokenizer_json;
using lineage::synth::independent_tokenizer_json;

TEST(SynthTokenizer, ExactlyVocabPiecesByteLevel) {
  for (const std::uint64_t vocab : {16u, 256u, 300u, 2048u}) {
    const auto v = parse_tokenizer_json(independent_tokenizer_json(vocab, 1), "t");
    EXPECT_EQ(v.tokens.size(), vocab);
    EXPECT_TRUE(v.byte_level);
    EXPECT_EQ(v.merges.size(), vocab > 256 ? vocab - 256 : 0);
    for (std::uint32_t id = 0; id < v.tokens.size(); ++id) ASSERT_EQ(v.tokens[id].id, id);
  }
  const auto v = parse_tokenizer_json(independent_tokenizer_json(300, 1), "t");
  EXPECT_EQ(v.tokens[0].piece, "!");
  EXPECT_EQ(v.tokens[188 + 32].piece, "Ġ");
}

TEST(SynthTokenizer, OneSeedOneTokenizerOtherSeedsAFamily) {
  EXPECT_EQ(independent_tokenizer_json(2048, 1), independent_tokenizer_json(2048, 1));
  const auto a = parse_tokenizer_json(independent_tokenizer_json(2048, 1), "a");
  const auto b = parse_tokenizer_json(independent_tokenizer_json(2048, 2), "b");
  const auto f = lineage::compare_vocabularies(a, b).bytes;
  EXPECT_GT(f.share_of_a, 0.5);
  EXPECT_LT(f.share_of_a, 1.0);
  EXPECT_GT(f.same_id, 1000u);
}

TEST(SynthTokenizer, ExtensionKeepsEveryPieceAndId) {
  const auto parent_text = independent_tokenizer_json(512, 1);
  const auto child_text = extended_tokenizer_json(parent_text, "parent", 512, 40, 9);
  const auto parent = parse_tokenizer_json(parent_text, "parent");
  const auto child = parse_tokenizer_json(child_text, "child");
  ASSERT_EQ(child.tokens.size(), 552u);
  EXPECT_EQ(child.merges.size(), parent.merges.size() + 40);
  const auto f = lineage::compare_vocabularies(parent, child).raw;
  EXPECT_EQ(f.shared, 512u);
  EXPECT_EQ(f.same_id, 512u);
  EXPECT_DOUBLE_EQ(f.merge_rank_spearman, 1.0);
  EXPECT_THROW(extended_tokenizer_json(parent_text, "parent", 500, 4, 9), lineage::input_error);
}

}  // namespace
