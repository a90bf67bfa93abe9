// Hidden-dimension matching (shard/hidden_match, plan/plan_hidden): the matching of a real F32
// embedding against a column-permuted, drifted copy (both halves recover the permutation, ρ = 1),
// against unrelated embeddings (ρ√(n − 1) ≈ N(0, 1)); the plan reading B through the recovered
// permutation wherever its roles put the residual dimension; and the aligned reads themselves (a
// permuted copy read back through its permutation is bitwise equal to the original).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/random_stream.hpp"
#include "plan/plan.hpp"
#include "plan/plan_views.hpp"
#include "shard/block_compute.hpp"
#include "shard/hidden_match.hpp"
#include "shard/hidden_rotation.hpp"
#include "shard/work_block.hpp"
#include "hidden_test_support.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using test::random_values;

// Column j of the child is column order[j] of the parent, plus noise.
std::vector<float> permuted_columns(const std::vector<float>& parent, std::size_t rows, std::size_t columns,
                                    const std::vector<std::uint32_t>& order, double noise, random_stream& stream) {
  std::vector<float> child(parent.size());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < columns; ++j)
      child[r * columns + j] = parent[r * columns + order[j]] + static_cast<float>(noise * stream.normal());
  return child;
}

// Per A dimension its B dimension when B's column j is A's column order[j]: the inverse of `order`.
std::vector<std::int32_t> inverse_of(const std::vector<std::uint32_t>& order) {
  std::vector<std::int32_t> inverse(order.size());
  for (std::size_t j = 0; j < order.size(); ++j) inverse[order[j]] = static_cast<std::int32_t>(j);
  return inverse;
}

// Negates B's columns j = 0, step, 2·step, … below `end`; returns, per A dimension, whether it is
// then read negated (A dimension order[j] for each negated j).
std::vector<std::uint8_t> negate_columns(std::vector<float>& child, std::size_t rows, std::size_t hidden,
                                         const std::vector<std::uint32_t>& order, std::size_t end, std::size_t step) {
  std::vector<std::uint8_t> negated(hidden, 0);
  for (std::size_t j = 0; j < end; j += step) {
    for (std::size_t r = 0; r < rows; ++r) child[r * hidden + j] = -child[r * hidden + j];
    negated[order[j]] = 1;
  }
  return negated;
}

hidden_match_result match(const std::vector<float>& a, std::uint64_t rows_a, const std::vector<float>& b,
                          std::uint64_t rows_b, std::uint64_t hidden, const test::scratch_directory& dir,
                          std::uint64_t hidden_b = 0) {
  if (hidden_b == 0) hidden_b = hidden;
  const auto la = test::write_f32_safetensors(dir.path() / "a.safetensors", {{"embed", {rows_a, hidden}, a}});
  const auto lb = test::write_f32_safetensors(dir.path() / "b.safetensors", {{"embed", {rows_b, hidden_b}, b}});
  block_reader reader({dir.path() / "a.safetensors"}, {dir.path() / "b.safetensors"});
  hidden_match_request request = test::embedding_request(la[0], lb[0], rows_a, rows_b, hidden, hidden_b);
  request.row_begin = 10;
  request.row_count = std::min(rows_a, rows_b) - 20;
  request.permutations = 50;
  request.seed = 3;
  return compute_hidden_match(0, request, reader);
}

TEST(HiddenMatch, BothHalvesRecoverAPermutationOfTheResidualDimension) {
  test::scratch_directory dir("hidden");
  random_stream stream(1, "test", "embedding");
  const std::size_t rows = 400, hidden = 64;
  const auto parent = random_values(rows * hidden, stream);
  std::vector<std::uint32_t> order(hidden);
  random_permutation(stream, order);
  // The child has 40 more tokens (an extended vocabulary); the shared rows come first.
  auto child = permuted_columns(parent, rows, hidden, order, 0.5, stream);
  const auto extra = random_values(40 * hidden, stream);
  child.insert(child.end(), extra.begin(), extra.end());
  const hidden_match_result result = match(parent, rows, child, rows + 40, hidden, dir);
  ASSERT_TRUE(result.usable) << result.reason;
  const std::vector<std::int32_t> expected = inverse_of(order);
  EXPECT_EQ(result.by_first, expected);
  EXPECT_EQ(result.by_second, expected);
  EXPECT_EQ(result.combined, expected);
  EXPECT_DOUBLE_EQ(result.spearman, 1.0);
  EXPECT_EQ(result.ranked, hidden);
  EXPECT_EQ(result.null.size(), 50u);
  // Noise of half the signal's size: the matched columns correlate at about 1/√1.25.
  EXPECT_NEAR(result.combined_similarity, 1 / std::sqrt(1.25), 0.05);
}

TEST(HiddenMatch, NegatedDimensionsAreMatchedAndRecordedAsNegated) {
  test::scratch_directory dir("hidden-negated");
  random_stream stream(4, "test", "embedding");
  const std::size_t rows = 400, hidden = 48;
  const auto parent = random_values(rows * hidden, stream);
  std::vector<std::uint32_t> order(hidden);
  random_permutation(stream, order);
  auto child = permuted_columns(parent, rows, hidden, order, 0.3, stream);
  // B's columns j < 24 negated: A dimension order[j] is then read negated.
  const auto expected_negated = negate_columns(child, rows, hidden, order, hidden / 2, 1);
  const hidden_match_result result = match(parent, rows, child, rows, hidden, dir);
  ASSERT_TRUE(result.usable) << result.reason;
  const std::vector<std::int32_t> expected = inverse_of(order);
  EXPECT_EQ(result.combined, expected);
  EXPECT_DOUBLE_EQ(result.spearman, 1.0);
  EXPECT_EQ(result.negated, expected_negated);
  EXPECT_GT(result.combined_similarity, 0.9);  // |Pearson|
}

// Issue 20: a residual stream wider than 1024 is matched through candidates from a coarse |Pearson|
// (shard/hidden_match.cpp): the same permutation and signs as the dense path recovers; unrelated
// embeddings still give unrelated matchings.
TEST(HiddenMatch, AWideResidualStreamIsMatchedThroughCandidates) {
  test::scratch_directory dir("hidden-wide");
  random_stream stream(12, "test", "embedding");
  const std::size_t rows = 300, hidden = 1100;
  const auto parent = random_values(rows * hidden, stream);
  std::vector<std::uint32_t> order(hidden);
  random_permutation(stream, order);
  auto child = permuted_columns(parent, rows, hidden, order, 0.5, stream);
  const auto expected_negated = negate_columns(child, rows, hidden, order, hidden, 3);
  const hidden_match_result result = match(parent, rows, child, rows, hidden, dir);
  ASSERT_TRUE(result.usable) << result.reason;
  const std::vector<std::int32_t> expected = inverse_of(order);
  EXPECT_EQ(result.by_first, expected);
  EXPECT_EQ(result.by_second, expected);
  EXPECT_EQ(result.combined, expected);
  EXPECT_EQ(result.negated, expected_negated);
  EXPECT_DOUBLE_EQ(result.spearman, 1.0);
  EXPECT_NEAR(result.combined_similarity, 1 / std::sqrt(1.25), 0.05);
  const auto unrelated = random_values(rows * hidden, stream);
  const hidden_match_result none = match(parent, rows, unrelated, rows, hidden, dir);
  ASSERT_TRUE(none.usable) << none.reason;
  EXPECT_LT(std::abs(none.spearman * std::sqrt(static_cast<double>(none.ranked) - 1)), 4.0);
}

TEST(HiddenMatch, SharedTokenRowsMeetUnderOtherIds) {
  // B's vocabulary holds A's tokens under other ids (another tokenizer of the family): row t of A
  // is row ids_b[t] of B. Matched on those pairs, the column permutation is found; on equal ids it
  // is not.
  test::scratch_directory dir("hidden-tokens");
  random_stream stream(6, "test", "tokens");
  const std::size_t rows = 300, hidden = 32;
  const auto parent = random_values(rows * hidden, stream);
  std::vector<std::uint32_t> order(hidden), ids_b(rows);
  random_permutation(stream, order);
  random_permutation(stream, ids_b);
  const auto permuted = permuted_columns(parent, rows, hidden, order, 0.3, stream);
  std::vector<float> child(parent.size());
  for (std::size_t t = 0; t < rows; ++t)
    std::copy_n(permuted.begin() + static_cast<std::ptrdiff_t>(t * hidden), hidden,
                child.begin() + static_cast<std::ptrdiff_t>(ids_b[t] * hidden));
  const auto la = test::write_f32_safetensors(dir.path() / "a.safetensors", {{"embed", {rows, hidden}, parent}});
  const auto lb = test::write_f32_safetensors(dir.path() / "b.safetensors", {{"embed", {rows, hidden}, child}});
  block_reader reader({dir.path() / "a.safetensors"}, {dir.path() / "b.safetensors"});
  hidden_match_request request = test::embedding_request(la[0], lb[0], rows, rows, hidden, hidden);
  request.row_count = 200;
  request.compared_a = index_range(50, 200);
  request.compared_b.assign(ids_b.begin() + 50, ids_b.begin() + 250);
  request.row_begin = 50;
  request.seed = 3;
  const auto by_tokens = compute_hidden_match(0, request, reader);
  ASSERT_TRUE(by_tokens.usable) << by_tokens.reason;
  const std::vector<std::int32_t> expected = inverse_of(order);
  EXPECT_EQ(by_tokens.combined, expected);
  EXPECT_DOUBLE_EQ(by_tokens.spearman, 1.0);
  EXPECT_EQ(request.spanned_rows(), (std::pair<std::uint64_t, std::uint64_t>{50, 250}));
  request.compared_a.clear();
  request.compared_b.clear();
  const auto by_ids = compute_hidden_match(0, request, reader);
  ASSERT_TRUE(by_ids.usable) << by_ids.reason;
  EXPECT_LT(by_ids.spearman, 0.5);
}

TEST(HiddenMatch, APrunedWidthIsMatchedRectangularly) {
  test::scratch_directory dir("hidden-pruned");
  random_stream stream(4, "test", "embedding");
  const std::size_t rows = 400, hidden = 64, kept = 48;
  const auto parent = random_values(rows * hidden, stream);
  // B keeps 48 of A's 64 dimensions, in a random order: child column j = parent column source[j].
  std::vector<std::uint32_t> order(hidden);
  random_permutation(stream, order);
  const std::vector<std::uint32_t> source(order.begin(), order.begin() + kept);
  std::vector<float> child(rows * kept);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < kept; ++j)
      child[r * kept + j] = parent[r * hidden + source[j]] + static_cast<float>(0.5 * stream.normal());
  const hidden_match_result result = match(parent, rows, child, rows, hidden, dir, kept);
  ASSERT_TRUE(result.usable) << result.reason;
  std::vector<std::int32_t> expected(hidden, -1);
  for (std::size_t j = 0; j < kept; ++j) expected[source[j]] = static_cast<std::int32_t>(j);
  EXPECT_EQ(result.combined, expected);
  EXPECT_EQ(result.by_first, expected);
  EXPECT_EQ(result.ranked, kept);
  EXPECT_DOUBLE_EQ(result.spearman, 1.0);
}

TEST(HiddenMatch, UnrelatedEmbeddingsGiveUnrelatedMatchings) {
  test::scratch_directory dir("hidden-unrelated");
  random_stream stream(2, "test", "embedding");
  const std::size_t rows = 300, hidden = 48;
  double sum_z = 0, sum_z2 = 0;
  constexpr int trials = 12;
  for (int t = 0; t < trials; ++t) {
    const auto a = random_values(rows * hidden, stream), b = random_values(rows * hidden, stream);
    const hidden_match_result result = match(a, rows, b, rows, hidden, dir);
    ASSERT_TRUE(result.usable);
    const double z = result.spearman * std::sqrt(static_cast<double>(hidden) - 1);
    EXPECT_LT(std::abs(z), 4.0);
    sum_z += z;
    sum_z2 += z * z;
  }
  // z ≈ N(0, 1): the mean of 12 within 3 standard errors of 0, the mean square near 1.
  EXPECT_LT(std::abs(sum_z / trials), 3 / std::sqrt(double{trials}));
  EXPECT_GT(sum_z2 / trials, 0.3);
  EXPECT_LT(sum_z2 / trials, 2.5);
}

// Pearson over every element of A's held-out rows and B's read as A's dimension d from its
// dimension order[d] (negated when flagged): the reference for the fits' closed forms.
double held_out_reference(const std::vector<float>& a, const std::vector<float>& b, std::size_t rows,
                          std::size_t width, const std::vector<std::uint32_t>& order) {
  long double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (std::size_t r = rows / 2; r < rows; ++r)
    for (std::size_t d = 0; d < width; ++d) {
      const long double x = a[r * width + d];
      const long double y = (is_negated(order[d]) ? -1.0L : 1.0L) * b[r * width + index_of(order[d])];
      n += 1, sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
    }
  return static_cast<double>((sxy - sx * sy / n) / std::sqrt((sxx - sx * sx / n) * (syy - sy * sy / n)));
}

// Issue 20: the held-out fits come from the held-out half's cross products, not from a pass over its
// rows per reading; they are still the Pearson correlations of those readings, and a rotated B is
// recovered.
TEST(HiddenRotation, HeldOutFitsAreThePearsonOfEachReadingAndARotationIsRecovered) {
  constexpr std::size_t rows = 600, width = 12;
  random_stream stream(11, "test", "rotation");
  const std::vector<float> a = random_values(rows * width, stream);
  // Q: an orthogonal matrix from Gram–Schmidt on normal columns; B = A·Qᵀ + noise.
  const std::vector<double> q = test::random_orthogonal(width, stream);
  const std::vector<float> b = test::rotated_rows(a, rows, width, q, 0.05, stream);
  std::vector<std::uint32_t> order(width), identity(width);
  std::iota(identity.begin(), identity.end(), 0u);
  for (std::size_t d = 0; d < width; ++d) order[d] = static_cast<std::uint32_t>((d * 5 + 3) % width) | (d % 3 == 0 ? negated_entry : 0u);
  const hidden_rotation_estimate estimate = estimate_hidden_rotation(a, b, rows, width, order);
  // Double sums against long double: agreement to 1e-6 (the rotation's fit goes through the float
  // cross products of the row kernel).
  EXPECT_NEAR(estimate.identity_fit, held_out_reference(a, b, rows, width, identity), 1e-6);
  EXPECT_NEAR(estimate.permutation_fit, held_out_reference(a, b, rows, width, order), 1e-6);
  EXPECT_GT(estimate.rotation_fit, 0.99);
  // B·R = A·Qᵀ·R ≈ A: R ≈ Q (R is B's dimensions by A's).
  ASSERT_EQ(estimate.rotation.size(), width * width);
  for (std::size_t j = 0; j < width; ++j)
    for (std::size_t d = 0; d < width; ++d)
      EXPECT_NEAR(estimate.rotation[j * width + d], q[j * width + d], 0.01) << j << ", " << d;
  // B as it is already fits above 1 − margin: no rotation could be applied, none is estimated.
  std::vector<float> close(a);
  for (float& v : close) v += static_cast<float>(0.05 * stream.normal());
  const hidden_rotation_estimate in_place = estimate_hidden_rotation(a, close, rows, width, identity);
  EXPECT_GT(in_place.identity_fit, 0.99);
  EXPECT_TRUE(in_place.rotation.empty());
  EXPECT_EQ(in_place.rotation_fit, 0.0);
  EXPECT_FALSE(rotation_can_apply(in_place.identity_fit, 0.0));
  EXPECT_TRUE(rotation_can_apply(0.9, 0.5));
}

TEST(HiddenMatch, AlignedReadsUndoAPermutationBitForBit) {
  test::scratch_directory dir("hidden-aligned");
  random_stream stream(3, "test", "aligned");
  const std::size_t rows = 12, columns = 10;
  const auto parent = random_values(rows * columns, stream);
  std::vector<std::uint32_t> row_order(rows), column_order(columns);
  random_permutation(stream, row_order);
  random_permutation(stream, column_order);
  // Child element (i, j) = parent (row_order⁻¹ ..): stored so that A's (q, c) sits at B's
  // (row_order[q], column_order[c]).
  std::vector<float> child(parent.size());
  for (std::size_t q = 0; q < rows; ++q)
    for (std::size_t c = 0; c < columns; ++c) child[row_order[q] * columns + column_order[c]] = parent[q * columns + c];
  const auto la = test::write_f32_safetensors(dir.path() / "a.safetensors", {{"w", {rows, columns}, parent}});
  const auto lb = test::write_f32_safetensors(dir.path() / "b.safetensors", {{"w", {rows, columns}, child}});
  block_reader reader({dir.path() / "a.safetensors"}, {dir.path() / "b.safetensors"});
  b_alignment alignment{lb[0], rows, columns, row_order, column_order};
  // Blocks that start and end inside rows.
  for (const auto& [first, count] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0, 120}, {7, 33}, {95, 25}}) {
    work_block block;
    block.first_element = first;
    block.elements = count;
    block.a = la[0];
    block.a.byte_offset += first * sizeof(float);
    const kernel_sums sums = reader.compute(block, &alignment);
    const pair_moments moments = pair_moments::from_block(sums);
    EXPECT_EQ(moments.bitwise_equal, count) << "block at " << first;
  }
  // Unaligned, the same bytes are (almost surely) not equal.
  work_block whole{0, 0, rows * columns, la[0], lb[0], -1};
  EXPECT_LT(pair_moments::from_block(reader.compute(whole)).bitwise_equal, rows * columns / 2);
}

TEST(HiddenMatch, NegatedEntriesReadBackTheSignFlippedValues) {
  test::scratch_directory dir("hidden-signs");
  random_stream stream(5, "test", "signs");
  const std::size_t rows = 6, columns = 8;
  const auto parent = random_values(rows * columns, stream);
  // B = A with rows 1, 4 and columns 0, 3, 5 negated (an element in both keeps its sign), in place.
  const std::vector<bool> row_flip{false, true, false, false, true, false};
  const std::vector<bool> column_flip{true, false, false, true, false, true, false, false};
  std::vector<float> child(parent.size());
  std::vector<std::uint32_t> row_order(rows), column_order(columns);
  for (std::size_t q = 0; q < rows; ++q) {
    row_order[q] = static_cast<std::uint32_t>(q) | (row_flip[q] ? negated_entry : 0u);
    for (std::size_t c = 0; c < columns; ++c)
      child[q * columns + c] = row_flip[q] != column_flip[c] ? -parent[q * columns + c] : parent[q * columns + c];
  }
  for (std::size_t c = 0; c < columns; ++c)
    column_order[c] = static_cast<std::uint32_t>(c) | (column_flip[c] ? negated_entry : 0u);
  const auto la = test::write_f32_safetensors(dir.path() / "a.safetensors", {{"w", {rows, columns}, parent}});
  const auto lb = test::write_f32_safetensors(dir.path() / "b.safetensors", {{"w", {rows, columns}, child}});
  block_reader reader({dir.path() / "a.safetensors"}, {dir.path() / "b.safetensors"});
  // The kernel's gather (a block through the alignment) and read_rows (the matching units' reads).
  const b_alignment alignment{lb[0], rows, columns, row_order, column_order};
  const work_block block{0, 0, rows * columns, la[0], lb[0], 0};
  EXPECT_EQ(pair_moments::from_block(reader.compute(block, &alignment)).bitwise_equal, rows * columns);
  std::vector<float> read(rows * columns);
  ASSERT_TRUE(reader.read_rows(1, lb[0], columns, row_order, column_order, read.data()));
  EXPECT_EQ(read, parent);
  // A contiguous column list without signs, rows with signs.
  const std::vector<std::uint32_t> plain{2, 3, 4};
  ASSERT_TRUE(reader.read_rows(1, lb[0], columns, row_order, plain, read.data()));
  for (std::size_t q = 0; q < rows; ++q)
    for (std::size_t k = 0; k < plain.size(); ++k) {
      const float expected = column_flip[plain[k]] ? -parent[q * columns + plain[k]] : parent[q * columns + plain[k]];
      EXPECT_EQ(read[q * plain.size() + k], expected) << q << ", " << plain[k];
    }
}

// Fake checkpoints with a hidden size of 16: which pairs read B through a recovered permutation —
// every tensor on the residual that is tested after the hidden unit, never the hidden unit's own
// (the embedding and the norms), whose test the order chosen on the embedding would defeat.
TEST(HiddenAlignment, EveryLaterUnitOnTheResidualReadsBThroughThePermutation) {
  const std::vector<test::tensor_spec> specs = {
      {"model.embed_tokens.weight", {64, 16}, dtype::bf16},
      {"model.norm.weight", {16}, dtype::bf16},
      {"model.layers.0.input_layernorm.weight", {16}, dtype::bf16},
      {"model.layers.0.self_attn.q_proj.weight", {8, 16}, dtype::bf16},
      {"model.layers.0.self_attn.q_proj.bias", {8}, dtype::bf16},
      {"model.layers.0.self_attn.o_proj.weight", {16, 8}, dtype::bf16},
      {"model.layers.0.mlp.up_proj.weight", {32, 16}, dtype::bf16},
      {"model.layers.0.mlp.down_proj.weight", {16, 32}, dtype::bf16},
  };
  const nlohmann::json heads = {{"num_attention_heads", 1}, {"num_key_value_heads", 1}};
  const checkpoint a = test::make_checkpoint("/a", "llama", specs, heads),
                   b = test::make_checkpoint("/b", "llama", specs, heads);
  plan_options options{50, 2, {}};
  const work_plan first = make_plan(a, b, test::embedded_registry(), options);
  ASSERT_TRUE(first.awaits_hidden_matching());
  ASSERT_EQ(first.hidden_matches.size(), 1u);
  EXPECT_EQ(first.hidden_matches[0].role, "embed_tokens.weight");
  EXPECT_EQ(first.hidden_matches[0].row_count, 64u);
  EXPECT_TRUE(first.alignments.empty());

  hidden_match_result result;
  result.usable = true;
  result.ranked = 16;
  result.spearman = 1;
  const std::vector<std::uint32_t> order = {3, 0, 1, 2, 7, 6, 5, 4, 8, 9, 10, 11, 15, 14, 13, 12};
  result.combined.assign(order.begin(), order.end());
  const std::vector<hidden_match_result> results{result};
  options.hidden_matching = &results;
  const work_plan aligned = make_plan(a, b, test::embedded_registry(), options);
  EXPECT_FALSE(aligned.awaits_hidden_matching());
  const auto alignment_of = [&](const char* role, int layer) -> const b_alignment* {
    const tensor_pair* pair = test::find_pair(aligned, {layer, role, -1});
    if (pair == nullptr || pair->alignment < 0) return nullptr;
    for (std::uint64_t k = pair->first_block; k < pair->first_block + pair->block_count; ++k)
      EXPECT_EQ(aligned.blocks[k].alignment, pair->alignment);
    return &aligned.alignments.at(static_cast<std::size_t>(pair->alignment));
  };
  for (const auto& [role, layer] :
       std::vector<std::pair<const char*, int>>{{"self_attn.q_proj.weight", 0}, {"mlp.up_proj.weight", 0}}) {
    const b_alignment* al = alignment_of(role, layer);
    ASSERT_NE(al, nullptr) << role;
    EXPECT_EQ(al->column_order, order) << role;
    EXPECT_TRUE(al->row_order.empty()) << role;
  }
  for (const auto* role : {"self_attn.o_proj.weight", "mlp.down_proj.weight"}) {
    const b_alignment* al = alignment_of(role, 0);
    ASSERT_NE(al, nullptr) << role;
    EXPECT_EQ(al->row_order, order) << role;
    EXPECT_TRUE(al->column_order.empty()) << role;
  }
  for (const auto& [role, layer] : std::vector<std::pair<const char*, int>>{
           {"embed_tokens.weight", -1}, {"norm.weight", -1}, {"input_layernorm.weight", 0}})
    EXPECT_EQ(alignment_of(role, layer), nullptr) << role;
  // q_proj's bias runs over heads, not over the residual.
  EXPECT_EQ(alignment_of("self_attn.q_proj.bias", 0), nullptr);
  const tensor_pair* embedding = test::find_pair(aligned, {-1, "embed_tokens.weight", -1});
  EXPECT_EQ(embedding->exclude_end, embedding->exclude_begin);
  EXPECT_EQ(embedding->pairing, "key");

  // Not significant (z = 0.7·√15 = 2.71 < 3.09), or the identity: nothing is applied.
  result.spearman = 0.7;
  const std::vector<hidden_match_result> weak{result};
  options.hidden_matching = &weak;
  EXPECT_TRUE(make_plan(a, b, test::embedded_registry(), options).alignments.empty());
  result.spearman = 1;
  std::iota(result.combined.begin(), result.combined.end(), 0);
  const std::vector<hidden_match_result> identity{result};
  options.hidden_matching = &identity;
  EXPECT_TRUE(make_plan(a, b, test::embedded_registry(), options).alignments.empty());
  // Switched off: no unit.
  options.nulls.match_hidden = false;
  options.hidden_matching = nullptr;
  EXPECT_TRUE(make_plan(a, b, test::embedded_registry(), options).hidden_matches.empty());
}

}  // namespace
}  // namespace lineage

namespace lineage {
namespace {

// Where each role carries the residual dimension, MTP roles and eh_proj's two halves included;
// an extent other than the hidden size maps nothing.
TEST(HiddenAlignment, ResidualMapsFollowTheRoles) {
  const std::vector<std::uint32_t> order = {2, 0, 3, 1};
  EXPECT_EQ(residual_map_for("self_attn.k_proj.weight", 8, 4, order).columns, order);
  EXPECT_TRUE(residual_map_for("self_attn.k_proj.weight", 8, 4, order).rows.empty());
  EXPECT_EQ(residual_map_for("mtp.mlp.experts.down_proj.weight", 4, 6, order).rows, order);
  EXPECT_TRUE(residual_map_for("mlp.down_proj.weight", 6, 4, order).rows.empty()) << "6 rows are not the residual";
  // A norm as the planner's pairs see it (one row) and as the nulls see it (one column).
  EXPECT_EQ(residual_map_for("mtp.enorm.weight", 1, 4, order).columns, order);
  EXPECT_EQ(residual_map_for("post_attention_layernorm.weight", 4, 1, order).rows, order);
  const residual_map eh = residual_map_for("mtp.eh_proj.weight", 4, 8, order);
  EXPECT_EQ(eh.rows, order);
  EXPECT_EQ(eh.columns, (std::vector<std::uint32_t>{2, 0, 3, 1, 6, 4, 7, 5}));
  EXPECT_TRUE(residual_map_for("self_attn.q_norm.weight", 1, 4, order).columns.empty());
  EXPECT_TRUE(residual_map_for("self_attn.k_proj.weight", 8, 4, {}).columns.empty());
  EXPECT_EQ(norm_read_by("mtp.self_attn.v_proj.weight"), "mtp.input_layernorm.weight");
  EXPECT_EQ(norm_read_by("mlp.router.weight"), "post_attention_layernorm.weight");
  EXPECT_EQ(norm_read_by("lm_head.weight"), "norm.weight");
  EXPECT_EQ(norm_read_by("self_attn.o_proj.weight"), "");
}

TEST(HiddenAlignment, SignFlipsReachReadersWritersAndBiasesButNotNorms) {
  const std::uint32_t n = negated_entry;
  const std::vector<std::uint32_t> order = {2 | n, 0, 3, 1 | n};
  EXPECT_EQ(residual_map_for("self_attn.q_proj.weight", 8, 4, order).columns, order);
  EXPECT_EQ(residual_map_for("mlp.down_proj.weight", 4, 6, order).rows, order);
  EXPECT_EQ(residual_map_for("self_attn.o_proj.bias", 1, 4, order).columns, order);
  EXPECT_EQ(residual_map_for("input_layernorm.weight", 1, 4, order).columns, (std::vector<std::uint32_t>{2, 0, 3, 1}));
  EXPECT_EQ(residual_map_for("mtp.hnorm.weight", 4, 1, order).rows, (std::vector<std::uint32_t>{2, 0, 3, 1}));
  const residual_map eh = residual_map_for("mtp.eh_proj.weight", 4, 8, order);
  EXPECT_EQ(eh.columns, (std::vector<std::uint32_t>{2 | n, 0, 3, 1 | n, 6 | n, 4, 7, 5 | n}));
}

}  // namespace
}  // namespace lineage
