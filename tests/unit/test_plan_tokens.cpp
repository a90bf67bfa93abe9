// Token pairing in the plan (plan/plan_tokens.cpp): with the tokenizers' shared tokens, embeddings and
// output heads of other vocabularies pair row by row by token (explicit rows, blocks over runs of
// consecutive rows, a null over the row pairs); the same vocabulary keeps the element-aligned pair,
// and without tokenizers other vocabulary sizes stay unpaired by shape.
#include <gtest/gtest.h>

#include "arch/architecture_map.hpp"
#include "plan/plan.hpp"
#include "plan/plan_io.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using test::tensor_spec;

constexpr std::uint64_t hidden = 16;

// Embedding and lm_head of `vocab` rows, the final norm, one layer's q_proj.
checkpoint model(const std::string& root, std::uint64_t vocab) {
  return test::make_checkpoint(root, "llama",
                               {{"model.embed_tokens.weight", {vocab, hidden}, dtype::f32},
                                {"model.norm.weight", {hidden}, dtype::f32},
                                {"lm_head.weight", {vocab, hidden}, dtype::f32},
                                {"model.layers.0.self_attn.q_proj.weight", {hidden, hidden}, dtype::f32}});
}

// Tokens 0..99 keep their ids, 150..159 moved to 120..129, token 200 of A is beyond B's rows.
token_pairing shared_tokens() {
  token_pairing tokens;
  tokens.available = true;
  for (std::uint32_t id = 0; id < 100; ++id) tokens.ids_a.push_back(id), tokens.ids_b.push_back(id);
  for (std::uint32_t id = 150; id < 160; ++id) tokens.ids_a.push_back(id), tokens.ids_b.push_back(id - 30);
  tokens.ids_a.push_back(200), tokens.ids_b.push_back(180);
  return tokens;
}

work_plan plan_with(const checkpoint& a, const checkpoint& b, const token_pairing* tokens) {
  plan_options options{64, 2, {}};
  options.tokens = tokens;
  return make_plan(a, b, test::embedded_registry(), options);
}

TEST(PlanTokens, OtherVocabulariesPairEmbeddingRowsBySharedTokens) {
  const checkpoint a = model("/models/a", 250), b = model("/models/b", 170);
  const token_pairing tokens = shared_tokens();
  const work_plan plan = plan_with(a, b, &tokens);
  for (const std::string role : {"embed_tokens.weight", "lm_head.weight"}) {
    SCOPED_TRACE(role);
    const tensor_pair* pair = test::find_pair(plan, {-1, role, -1});
    ASSERT_NE(pair, nullptr);
    EXPECT_EQ(pair->pairing, "shared tokens");
    // Token 200 has no row in B (170 rows): left out.
    ASSERT_EQ(pair->rows_a.size(), 110U);
    EXPECT_EQ(std::vector<std::uint32_t>(pair->rows_a.begin(), pair->rows_a.begin() + 100),
              std::vector<std::uint32_t>(pair->rows_b.begin(), pair->rows_b.begin() + 100));
    EXPECT_EQ(pair->rows_a[100], 150U);
    EXPECT_EQ(pair->rows_b[100], 120U);
    // Two runs of consecutive rows (1600 and 160 elements) cut into blocks of 64 elements.
    EXPECT_EQ(pair->block_count, 25U + 3U);
    const std::uint64_t bytes_per_row = hidden * 4;
    const work_block& run_start = plan.blocks[pair->first_block + 25];
    EXPECT_EQ(run_start.first_element, 100 * hidden);
    EXPECT_EQ(run_start.a.byte_offset, pair->a.byte_offset + 150 * bytes_per_row);
    EXPECT_EQ(run_start.b.byte_offset, pair->b.byte_offset + 120 * bytes_per_row);
    std::uint64_t elements = 0;
    for (std::uint64_t i = 0; i < pair->block_count; ++i) elements += plan.blocks[pair->first_block + i].elements;
    EXPECT_EQ(elements, 110 * hidden);
    // The null permutes the token pairing: its units are the row pairs.
    const auto null = std::find_if(plan.nulls.begin(), plan.nulls.end(), [&](const null_request& r) {
      return &plan.pairs[r.pair] == pair;
    });
    ASSERT_NE(null, plan.nulls.end());
    EXPECT_TRUE(null->explicit_pairs());
    EXPECT_EQ(null->rows_a, pair->rows_a);
    EXPECT_EQ(null->rows_b, pair->rows_b);
    EXPECT_EQ(null->tensor_rows_a, 250U);
    EXPECT_EQ(null->tensor_rows_b, 170U);
  }
  EXPECT_EQ(test::find_pair(plan, {0, "self_attn.q_proj.weight", -1})->pairing, "key");
  EXPECT_TRUE(plan.unpaired.empty());
}

TEST(PlanTokens, OneVocabularySizeWithOtherIdsStillPairsByToken) {
  const checkpoint a = model("/models/a", 250), b = model("/models/b", 250);
  const token_pairing tokens = shared_tokens();
  const work_plan plan = plan_with(a, b, &tokens);
  const tensor_pair* pair = test::find_pair(plan, {-1, "embed_tokens.weight", -1});
  ASSERT_NE(pair, nullptr);
  EXPECT_EQ(pair->pairing, "shared tokens");
  EXPECT_EQ(pair->rows_a.size(), 111U);  // token 200 has row 180 in B now
}

TEST(PlanTokens, TheSameVocabularyKeepsTheElementAlignedPair) {
  const checkpoint a = model("/models/a", 250), b = model("/models/b", 250);
  token_pairing tokens = shared_tokens();
  tokens.identical = true;
  const work_plan plan = plan_with(a, b, &tokens);
  const tensor_pair* pair = test::find_pair(plan, {-1, "embed_tokens.weight", -1});
  ASSERT_NE(pair, nullptr);
  EXPECT_EQ(pair->pairing, "key");
  EXPECT_TRUE(pair->rows_a.empty());
}

TEST(PlanTokens, WithoutTokenizersOtherVocabularySizesStayUnpaired) {
  const checkpoint a = model("/models/a", 250), b = model("/models/b", 170);
  const token_pairing absent;  // available = false
  for (const token_pairing* tokens : {static_cast<const token_pairing*>(nullptr), &absent}) {
    const work_plan plan = plan_with(a, b, tokens);
    EXPECT_EQ(test::find_pair(plan, {-1, "embed_tokens.weight", -1}), nullptr);
    EXPECT_EQ(plan.unpaired.size(), 4U);  // embedding and lm_head, both sides
  }
}

TEST(PlanTokens, RowPairsAndTheTokenizersObjectTravelWithThePlan) {
  const checkpoint a = model("/models/a", 250), b = model("/models/b", 170);
  const token_pairing tokens = shared_tokens();
  work_plan plan = plan_with(a, b, &tokens);
  plan.tokenizers = R"({"available":true})";
  const std::vector<char> bytes = serialize_plan(plan);
  const work_plan copy = deserialize_plan(bytes);
  EXPECT_EQ(copy.tokenizers, plan.tokenizers);
  EXPECT_EQ(test::find_pair(copy, {-1, "lm_head.weight", -1})->rows_b,
            test::find_pair(plan, {-1, "lm_head.weight", -1})->rows_b);
  EXPECT_EQ(serialize_plan(copy), bytes);  // every field, rows and pairings included, came back
}

}  // namespace
}  // namespace lineage
