// Attention-head matching (shard/head_match, plan/plan_heads): real F32 q/k/v/o weights against a
// head-permuted, drifted copy (every matching recovers the permutation, ρ = 1, p ≤ 0.01) and
// against unrelated weights (not significant, not applied); the gate that decides whether B is read
// through the head order; and the plan, which matches heads in the second phase and then reads
// B's q/k/v rows, biases and o_proj columns through the order, composed with the hidden order.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/random_stream.hpp"
#include "plan/plan.hpp"
#include "plan/plan_views.hpp"
#include "reduce/permutation_test.hpp"
#include "shard/block_compute.hpp"
#include "shard/head_match.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

constexpr std::uint64_t heads = 8, kv_heads = 2, head_dim = 4, hidden = 48;

std::vector<float> random_values(std::size_t count, random_stream& stream) {
  std::vector<float> v(count);
  for (float& x : v) x = static_cast<float>(stream.normal());
  return v;
}

// One layer's weights: q [heads·d, hidden], k and v [kv·d, hidden], o [hidden, heads·d].
struct attention {
  std::vector<float> q, k, v, o;
};

attention random_attention(random_stream& stream) {
  return {random_values(heads * head_dim * hidden, stream), random_values(kv_heads * head_dim * hidden, stream),
          random_values(kv_heads * head_dim * hidden, stream), random_values(hidden * heads * head_dim, stream)};
}

// Child head j is parent head order[j]: rows (o: columns) in blocks of head_dim, plus noise.
std::vector<float> permuted_rows(const std::vector<float>& parent, const std::vector<std::uint32_t>& order,
                                 std::uint64_t row_length, double noise, random_stream& stream) {
  std::vector<float> child(parent.size());
  for (std::size_t j = 0; j < order.size(); ++j)
    for (std::uint64_t r = 0; r < head_dim; ++r)
      for (std::uint64_t c = 0; c < row_length; ++c)
        child[(j * head_dim + r) * row_length + c] = parent[(order[j] * head_dim + r) * row_length + c] +
                                                      static_cast<float>(noise * stream.normal());
  return child;
}

std::vector<float> permuted_columns(const std::vector<float>& parent, const std::vector<std::uint32_t>& order,
                                    double noise, random_stream& stream) {
  const std::uint64_t columns = heads * head_dim;
  std::vector<float> child(parent.size());
  for (std::uint64_t row = 0; row < hidden; ++row)
    for (std::size_t j = 0; j < order.size(); ++j)
      for (std::uint64_t r = 0; r < head_dim; ++r)
        child[row * columns + j * head_dim + r] = parent[row * columns + order[j] * head_dim + r] +
                                                  static_cast<float>(noise * stream.normal());
  return child;
}

head_match_result match(const attention& a, const attention& b, const test::scratch_directory& dir) {
  const auto write = [&](const char* file, const attention& w) {
    return test::write_f32_safetensors(dir.path() / file, {{"q", {heads * head_dim, hidden}, w.q},
                                                           {"k", {kv_heads * head_dim, hidden}, w.k},
                                                           {"v", {kv_heads * head_dim, hidden}, w.v},
                                                           {"o", {hidden, heads * head_dim}, w.o}});
  };
  const auto la = write("a.safetensors", a), lb = write("b.safetensors", b);
  block_reader reader({dir.path() / "a.safetensors"}, {dir.path() / "b.safetensors"});
  head_match_request request;
  request.layer = 3;
  request.q_a = la[0];
  request.k_a = la[1];
  request.v_a = la[2];
  request.o_a = la[3];
  request.q_b = lb[0];
  request.k_b = lb[1];
  request.v_b = lb[2];
  request.o_b = lb[3];
  request.heads = heads;
  request.kv_heads = kv_heads;
  request.head_dim = head_dim;
  request.hidden = hidden;
  request.column_begin = 8;
  request.column_count = 32;
  request.permutations = 1000;
  request.seed = 5;
  return compute_head_match(0, request, reader);
}

head_match_request layout_request() {
  head_match_request request;
  request.heads = heads;
  request.kv_heads = kv_heads;
  request.head_dim = head_dim;
  request.hidden = hidden;
  return request;
}

// What grouped-query attention allows (synth/head_permutation.cpp): KV heads with their group,
// query heads within it. Child head j = parent head q[j].
const std::vector<std::uint32_t> kv_order = {1, 0};
const std::vector<std::uint32_t> q_order = {6, 4, 7, 5, 1, 3, 0, 2};

TEST(HeadMatch, EveryMatchingRecoversAPermutationOfHeads) {
  test::scratch_directory dir("heads");
  random_stream stream(1, "test", "attention");
  const attention parent = random_attention(stream);
  attention child;
  child.q = permuted_rows(parent.q, q_order, hidden, 0.3, stream);
  child.k = permuted_rows(parent.k, kv_order, hidden, 0.3, stream);
  child.v = permuted_rows(parent.v, kv_order, hidden, 0.3, stream);
  child.o = permuted_columns(parent.o, q_order, 0.3, stream);
  const head_match_result result = match(parent, child, dir);
  ASSERT_TRUE(result.usable) << result.reason;
  // Per A head its B head: the inverse of the child's order.
  std::vector<std::int32_t> want_q(heads), want_kv(kv_heads);
  for (std::size_t j = 0; j < heads; ++j) want_q[q_order[j]] = static_cast<std::int32_t>(j);
  for (std::size_t j = 0; j < kv_heads; ++j) want_kv[kv_order[j]] = static_cast<std::int32_t>(j);
  EXPECT_EQ(result.by_q, want_q);
  EXPECT_EQ(result.by_o, want_q);
  EXPECT_EQ(result.combined_q, want_q);
  EXPECT_EQ(result.by_k, want_kv);
  EXPECT_EQ(result.by_v, want_kv);
  EXPECT_EQ(result.combined_kv, want_kv);
  EXPECT_DOUBLE_EQ(result.spearman, 1.0);
  EXPECT_EQ(result.ranked, heads);
  EXPECT_EQ(result.null.size(), 1000u);
  EXPECT_GT(result.combined_similarity, 0.9);
  const spearman_test test = test_spearman(result.spearman, result.ranked, result.null, result.randomizer);
  EXPECT_LE(test.p_value, 0.01);

  // The gate passes, and the order reads B's rows in blocks of head_dim.
  const auto order = applied_head_order(layout_request(), result);
  ASSERT_TRUE(order.has_value());
  ASSERT_EQ(order->query.size(), heads * head_dim);
  ASSERT_EQ(order->key_value.size(), kv_heads * head_dim);
  for (std::size_t h = 0; h < heads; ++h)
    for (std::size_t r = 0; r < head_dim; ++r) EXPECT_EQ(order->query[h * head_dim + r], want_q[h] * head_dim + r);
  for (std::size_t g = 0; g < kv_heads; ++g)
    for (std::size_t r = 0; r < head_dim; ++r)
      EXPECT_EQ(order->key_value[g * head_dim + r], want_kv[g] * head_dim + r);

  // The same run gives the same bits.
  const head_match_result again = match(parent, child, dir);
  EXPECT_EQ(again.null, result.null);
  EXPECT_EQ(again.randomizer, result.randomizer);
}

TEST(HeadMatch, UnrelatedAttentionIsNotSignificant) {
  test::scratch_directory dir("heads");
  random_stream stream(2, "test", "attention");
  const attention a = random_attention(stream), b = random_attention(stream);
  const head_match_result result = match(a, b, dir);
  ASSERT_TRUE(result.usable) << result.reason;
  const spearman_test test = test_spearman(result.spearman, result.ranked, result.null, result.randomizer);
  EXPECT_GT(test.p_value, 0.01);
}

TEST(HeadMatch, NonFiniteWeightsMakeTheUnitUnusable) {
  test::scratch_directory dir("heads");
  random_stream stream(3, "test", "attention");
  attention a = random_attention(stream);
  const attention b = random_attention(stream);
  a.o[hidden * heads * head_dim / 2] = NAN;  // row 24 is among the compared hidden dimensions
  const head_match_result result = match(a, b, dir);
  EXPECT_FALSE(result.usable);
  EXPECT_NE(result.reason.find("non-finite"), std::string::npos);
}

// A result the gate accepts: the q map {1, 0, 3, 2, 4, …} stays inside KV group 0 → 0, 1 → 1.
head_match_result agreeing_result() {
  head_match_result result;
  result.usable = true;
  result.by_q = {1, 0, 3, 2, 4, 5, 6, 7};
  result.by_o = result.by_q;
  result.combined_q = result.by_q;
  result.by_k = {0, 1};
  result.by_v = result.by_k;
  result.combined_kv = result.by_k;
  result.ranked = heads;
  result.spearman = 0.95;
  result.null.assign(1000, 0.0);
  return result;
}

// The order v and o are read in comes from q and k alone, whatever o and v say: their own test
// permutes the dimensions inside heads, which an order chosen on other tensors leaves exact, so no
// gate is needed — only permutations, and not the identity.
TEST(HeadAlignment, TheOrderComesFromQAndKAloneAndMustBePermutations) {
  const head_match_request request = layout_request();
  EXPECT_TRUE(applied_head_order(request, agreeing_result()).has_value());
  auto changed = agreeing_result();
  changed.by_o = {0, 1, 3, 2, 4, 5, 6, 7};  // o disagrees: not used
  changed.by_v = {1, 0};                    // v disagrees: not used
  const auto order = applied_head_order(request, changed);
  ASSERT_TRUE(order.has_value());
  EXPECT_EQ(order->query[0], 1u * request.head_dim);
  changed = agreeing_result();
  changed.by_q = {0, 0, 3, 2, 4, 5, 6, 7};  // not a permutation
  EXPECT_FALSE(applied_head_order(request, changed).has_value());
  changed = agreeing_result();
  changed.by_q = {0, 1, 2, 3, 4, 5, 6, 7};  // nothing moved
  EXPECT_FALSE(applied_head_order(request, changed).has_value());
  changed.by_k = {1, 0};  // the KV heads moved
  EXPECT_TRUE(applied_head_order(request, changed).has_value());
  changed = agreeing_result();
  changed.usable = false;
  EXPECT_FALSE(applied_head_order(request, changed).has_value());
}

TEST(HeadAlignment, HeadMapsFollowTheValuesUnitsRoles) {
  const head_order order{{4, 5, 6, 7, 0, 1, 2, 3}, {2, 3, 0, 1}};
  // q and k chose the order: they are never read through it.
  EXPECT_TRUE(head_map_for("self_attn.q_proj.weight", 8, 16, order).rows.empty());
  EXPECT_TRUE(head_map_for("self_attn.q_proj.bias", 1, 8, order).columns.empty());
  EXPECT_TRUE(head_map_for("mtp.self_attn.k_proj.weight", 4, 16, order).rows.empty());
  EXPECT_EQ(head_map_for("mtp.self_attn.v_proj.weight", 4, 16, order).rows, order.key_value);
  EXPECT_EQ(head_map_for("self_attn.v_proj.bias", 1, 4, order).columns, order.key_value);
  EXPECT_EQ(head_map_for("self_attn.o_proj.weight", 16, 8, order).columns, order.query);
  EXPECT_TRUE(head_map_for("self_attn.o_proj.weight", 16, 8, order).rows.empty());
  EXPECT_TRUE(head_map_for("self_attn.o_proj.bias", 1, 16, order).columns.empty());
  EXPECT_TRUE(head_map_for("mlp.up_proj.weight", 8, 16, order).rows.empty());
  EXPECT_TRUE(head_map_for("self_attn.v_proj.weight", 8, 16, order).rows.empty());  // extent does not fit
}

TEST(HeadAlignment, ThePlanMatchesHeadsInTheSecondPhaseAndReadsBThroughTheOrder) {
  const std::vector<test::tensor_spec> specs = {
      {"model.layers.0.self_attn.q_proj.weight", {32, 16}, dtype::bf16},
      {"model.layers.0.self_attn.q_proj.bias", {32}, dtype::bf16},
      {"model.layers.0.self_attn.k_proj.weight", {8, 16}, dtype::bf16},
      {"model.layers.0.self_attn.v_proj.weight", {8, 16}, dtype::bf16},
      {"model.layers.0.self_attn.o_proj.weight", {16, 32}, dtype::bf16},
      {"model.layers.0.mlp.gate_proj.weight", {32, 16}, dtype::bf16},
      {"model.layers.0.mlp.up_proj.weight", {32, 16}, dtype::bf16},
      {"model.layers.0.mlp.down_proj.weight", {16, 32}, dtype::bf16},
  };
  const nlohmann::json config = {{"num_attention_heads", 8}, {"num_key_value_heads", 2}};
  const checkpoint a = test::make_checkpoint("/a", "llama", specs, config);
  const checkpoint b = test::make_checkpoint("/b", "llama", specs, config);
  plan_options options{50, 2, {}};
  const work_plan first = make_plan(a, b, test::embedded_registry(), options);
  ASSERT_TRUE(first.awaits_head_matching());
  EXPECT_TRUE(first.awaits_second_phase());
  EXPECT_TRUE(first.neuron_matches.empty());  // planned once the matching phases are done
  ASSERT_EQ(first.head_matches.size(), 1u);
  const auto& request = first.head_matches[0];
  EXPECT_EQ(request.heads, 8u);
  EXPECT_EQ(request.kv_heads, 2u);
  EXPECT_EQ(request.head_dim, 4u);
  EXPECT_EQ(request.column_count, 16u);
  EXPECT_EQ(request.permutations, 1000u);
  EXPECT_EQ(first.head_match_rank.size(), 1u);

  head_match_result result = agreeing_result();
  const std::vector<head_match_result> results{result};
  options.head_matching = &results;
  const work_plan aligned = make_plan(a, b, test::embedded_registry(), options);
  EXPECT_FALSE(aligned.awaits_matching());
  EXPECT_FALSE(aligned.neuron_matches.empty());
  ASSERT_EQ(aligned.head_applied, std::vector<std::uint8_t>{1});
  const auto order = applied_head_order(request, result);
  ASSERT_TRUE(order.has_value());
  const auto alignment_of = [&](const char* role) -> const b_alignment* {
    const tensor_pair* pair = test::find_pair(aligned, {0, role, -1});
    if (pair == nullptr || pair->alignment < 0) return nullptr;
    EXPECT_EQ(pair->pairing, "head matching") << role;
    return &aligned.alignments.at(static_cast<std::size_t>(pair->alignment));
  };
  EXPECT_EQ(alignment_of("self_attn.q_proj.weight"), nullptr);
  EXPECT_EQ(alignment_of("self_attn.q_proj.bias"), nullptr);
  EXPECT_EQ(alignment_of("self_attn.k_proj.weight"), nullptr);
  const b_alignment* v = alignment_of("self_attn.v_proj.weight");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->row_order, order->key_value);
  const b_alignment* o = alignment_of("self_attn.o_proj.weight");
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->column_order, order->query);
  EXPECT_EQ(alignment_of("mlp.up_proj.weight"), nullptr);
  // The values unit's draws follow B's heads: block b of A's o meets B's query head by_q[b], whose
  // dimensions move with its KV head by_q[b] / 4; block j of v meets B's KV head by_k[j].
  for (const auto& request : aligned.nulls) {
    const auto& pair = aligned.pairs[request.pair];
    if (pair.key.role == "self_attn.o_proj.weight")
      EXPECT_EQ(request.layout.block_component, (std::vector<std::uint32_t>{0, 0, 0, 0, 1, 1, 1, 1}));
    if (pair.key.role == "self_attn.v_proj.weight")
      EXPECT_EQ(request.layout.block_component, (std::vector<std::uint32_t>{0, 1}));
  }

  // Unequal head counts in config.json: nothing to match.
  const checkpoint other = test::make_checkpoint("/b", "llama", specs, {{"num_attention_heads", 4}});
  EXPECT_TRUE(make_plan(a, other, test::embedded_registry(), {50, 2, {}}).head_matches.empty());
  // Switched off.
  plan_options off{50, 2, {}};
  off.nulls.match_heads = false;
  EXPECT_TRUE(make_plan(a, b, test::embedded_registry(), off).head_matches.empty());
}

}  // namespace
}  // namespace lineage
