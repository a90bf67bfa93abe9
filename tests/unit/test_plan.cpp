// The work plan (plan/plan, plan/plan_io): pairing by canonical key and the reasons for what stays
// unpaired, fixed blocks whose boundaries do not depend on the rank count, contiguous dealing by
// bytes, the permutation nulls and their dealing by estimated time, and the broadcast form. Checkpoints are
// built in memory (make_plan reads no file).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "arch/architecture_map.hpp"
#include "core/error.hpp"
#include "plan/plan.hpp"
#include "plan/plan_io.hpp"
#include "plan/time_estimate.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using test::tensor_spec;

const architecture_registry& registry() { return test::embedded_registry(); }

// A Llama-style model: hidden H, intermediate I, vocabulary V, K/V projections of H/2 rows.
std::vector<tensor_spec> llama_specs(int layers, std::uint64_t hidden, std::uint64_t intermediate,
                                     std::uint64_t vocab, dtype type, bool lm_head = true) {
  std::vector<tensor_spec> specs = {{"model.embed_tokens.weight", {vocab, hidden}, type},
                                    {"model.norm.weight", {hidden}, type}};
  if (lm_head) specs.push_back({"lm_head.weight", {vocab, hidden}, type});
  for (int l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    specs.push_back({p + "input_layernorm.weight", {hidden}, type});
    specs.push_back({p + "post_attention_layernorm.weight", {hidden}, type});
    specs.push_back({p + "self_attn.q_proj.weight", {hidden, hidden}, type});
    specs.push_back({p + "self_attn.k_proj.weight", {hidden / 2, hidden}, type});
    specs.push_back({p + "self_attn.v_proj.weight", {hidden / 2, hidden}, type});
    specs.push_back({p + "self_attn.o_proj.weight", {hidden, hidden}, type});
    specs.push_back({p + "mlp.gate_proj.weight", {intermediate, hidden}, type});
    specs.push_back({p + "mlp.up_proj.weight", {intermediate, hidden}, type});
    specs.push_back({p + "mlp.down_proj.weight", {hidden, intermediate}, type});
  }
  return specs;
}

checkpoint llama(dtype type = dtype::bf16, bool lm_head = true, int layers = 3) {
  return test::make_checkpoint("/models/llama", "llama", llama_specs(layers, 64, 96, 300, type, lm_head));
}

work_plan plan_of(const checkpoint& a, const checkpoint& b, std::uint64_t block_elements = 1000,
                  int ranks = 1) {
  return make_plan(a, b, registry(), {block_elements, ranks, {}});
}

std::uint64_t block_bytes(const work_block& block) {
  return block.elements * (dtype_size(block.a.type) + dtype_size(block.b.type));
}

// --- field-by-field equality --------------------------------------------------------------------

void expect_same(const planned_tensor& x, const planned_tensor& y) {
  EXPECT_EQ(x.name, y.name);
  EXPECT_EQ(x.type, y.type);
  EXPECT_EQ(x.shape, y.shape);
  EXPECT_EQ(x.file, y.file);
  EXPECT_EQ(x.byte_offset, y.byte_offset);
  EXPECT_EQ(x.elements, y.elements);
}

void expect_same(const work_block& x, const work_block& y) {
  EXPECT_EQ(x.pair, y.pair);
  EXPECT_EQ(x.first_element, y.first_element);
  EXPECT_EQ(x.elements, y.elements);
  EXPECT_EQ(x.a.file, y.a.file);
  EXPECT_EQ(x.a.byte_offset, y.a.byte_offset);
  EXPECT_EQ(x.a.type, y.a.type);
  EXPECT_EQ(x.b.file, y.b.file);
  EXPECT_EQ(x.b.byte_offset, y.b.byte_offset);
  EXPECT_EQ(x.b.type, y.b.type);
}

void expect_same(const model_description& x, const model_description& y) {
  EXPECT_EQ(x.path, y.path);
  EXPECT_EQ(x.model_type, y.model_type);
  EXPECT_EQ(x.architecture, y.architecture);
  EXPECT_EQ(x.files, y.files);
  EXPECT_EQ(x.file_sizes, y.file_sizes);
  EXPECT_EQ(x.tensor_count, y.tensor_count);
  EXPECT_EQ(x.parameter_count, y.parameter_count);
  EXPECT_EQ(x.config_json, y.config_json);
}

// Everything but the dealing to ranks (and that too when `with_dealing`).
void expect_same_plan(const work_plan& x, const work_plan& y, bool with_dealing) {
  expect_same(x.model_a, y.model_a);
  expect_same(x.model_b, y.model_b);
  EXPECT_EQ(x.block_elements, y.block_elements);
  ASSERT_EQ(x.pairs.size(), y.pairs.size());
  for (std::size_t p = 0; p < x.pairs.size(); ++p) {
    EXPECT_EQ(x.pairs[p].key, y.pairs[p].key);
    expect_same(x.pairs[p].a, y.pairs[p].a);
    expect_same(x.pairs[p].b, y.pairs[p].b);
    EXPECT_EQ(x.pairs[p].first_block, y.pairs[p].first_block);
    EXPECT_EQ(x.pairs[p].block_count, y.pairs[p].block_count);
  }
  ASSERT_EQ(x.blocks.size(), y.blocks.size());
  for (std::size_t i = 0; i < x.blocks.size(); ++i) expect_same(x.blocks[i], y.blocks[i]);
  ASSERT_EQ(x.unpaired.size(), y.unpaired.size());
  for (std::size_t i = 0; i < x.unpaired.size(); ++i) {
    EXPECT_EQ(x.unpaired[i].side, y.unpaired[i].side);
    EXPECT_EQ(x.unpaired[i].name, y.unpaired[i].name);
    EXPECT_EQ(x.unpaired[i].key, y.unpaired[i].key);
    EXPECT_EQ(x.unpaired[i].type, y.unpaired[i].type);
    EXPECT_EQ(x.unpaired[i].shape, y.unpaired[i].shape);
    EXPECT_EQ(x.unpaired[i].reason, y.unpaired[i].reason);
  }
  ASSERT_EQ(x.nulls.size(), y.nulls.size());
  for (std::size_t i = 0; i < x.nulls.size(); ++i) {
    EXPECT_EQ(x.nulls[i].pair, y.nulls[i].pair);
    EXPECT_EQ(x.nulls[i].a.file, y.nulls[i].a.file);
    EXPECT_EQ(x.nulls[i].a.byte_offset, y.nulls[i].a.byte_offset);
    EXPECT_EQ(x.nulls[i].a.type, y.nulls[i].a.type);
    EXPECT_EQ(x.nulls[i].b.file, y.nulls[i].b.file);
    EXPECT_EQ(x.nulls[i].b.byte_offset, y.nulls[i].b.byte_offset);
    EXPECT_EQ(x.nulls[i].b.type, y.nulls[i].b.type);
    EXPECT_EQ(x.nulls[i].rows, y.nulls[i].rows);
    EXPECT_EQ(x.nulls[i].row_length, y.nulls[i].row_length);
    EXPECT_EQ(x.nulls[i].permutations, y.nulls[i].permutations);
    EXPECT_EQ(x.nulls[i].seed, y.nulls[i].seed);
  }
  if (with_dealing) {
    EXPECT_EQ(x.rank_first_block, y.rank_first_block);
    EXPECT_EQ(x.null_rank, y.null_rank);
  }
}

const unpaired_tensor* find_unpaired(const work_plan& plan, char side, const std::string& name) {
  for (const auto& u : plan.unpaired)
    if (u.side == side && u.name == name) return &u;
  return nullptr;
}

using test::find_pair;

// --- pairing --------------------------------------------------------------------------------------

TEST(Plan, PairsEveryTensorByKeyInKeyOrder) {
  const checkpoint a = llama(), b = llama(dtype::f32);
  const work_plan plan = plan_of(a, b);
  EXPECT_TRUE(plan.unpaired.empty());
  ASSERT_EQ(plan.pairs.size(), a.tensors.size());
  for (std::size_t p = 1; p < plan.pairs.size(); ++p) EXPECT_LT(plan.pairs[p - 1].key, plan.pairs[p].key);
  for (const auto& pair : plan.pairs) {
    EXPECT_EQ(pair.a.name, pair.b.name);
    EXPECT_EQ(pair.a.shape, pair.b.shape);
    EXPECT_EQ(pair.a.type, dtype::bf16);
    EXPECT_EQ(pair.b.type, dtype::f32);
    const auto& ta = *std::find_if(a.tensors.begin(), a.tensors.end(),
                                   [&](const auto& t) { return t.name == pair.a.name; });
    EXPECT_EQ(pair.a.byte_offset, ta.byte_offset);
    EXPECT_EQ(pair.a.elements, ta.element_count);
  }
  const tensor_pair* q = find_pair(plan, {1, "self_attn.q_proj.weight", -1});
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->a.name, "model.layers.1.self_attn.q_proj.weight");
  const tensor_pair* embed = find_pair(plan, {-1, "embed_tokens.weight", -1});
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(plan.model_a.architecture, "llama");
  EXPECT_EQ(plan.model_a.model_type, "llama");
  EXPECT_EQ(plan.model_a.tensor_count, a.tensors.size());
  std::uint64_t parameters = 0;
  for (const auto& t : a.tensors) parameters += t.element_count;
  EXPECT_EQ(plan.model_a.parameter_count, parameters);
  EXPECT_EQ(plan.model_a.files, std::vector<std::string>{"/models/llama/model.safetensors"});
  EXPECT_EQ(plan.model_a.file_sizes, std::vector<std::uint64_t>{a.files[0].size});
  EXPECT_EQ(nlohmann::json::parse(plan.model_b.config_json).at("model_type"), "llama");
}

TEST(Plan, MissingKeysAreListedWithReason) {
  const checkpoint a = llama(dtype::bf16, true);
  auto specs = llama_specs(3, 64, 96, 300, dtype::bf16, false);  // tied embeddings: no lm_head
  specs.push_back({"model.layers.2.self_attn.q_norm.weight", {32}, dtype::bf16});
  const checkpoint b = test::make_checkpoint("/models/b", "llama", specs);
  const work_plan plan = plan_of(a, b);
  ASSERT_EQ(plan.unpaired.size(), 2U);
  const unpaired_tensor* head = find_unpaired(plan, 'a', "lm_head.weight");
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->reason, "no tensor with this key in model B");
  EXPECT_EQ(head->key, (tensor_key{-1, "lm_head.weight", -1}));
  EXPECT_EQ(head->shape, (std::vector<std::uint64_t>{300, 64}));
  EXPECT_EQ(head->type, dtype::bf16);
  const unpaired_tensor* extra = find_unpaired(plan, 'b', "model.layers.2.self_attn.q_norm.weight");
  ASSERT_NE(extra, nullptr);
  EXPECT_EQ(extra->reason, "no tensor with this key in model A");
  EXPECT_EQ(plan.pairs.size(), a.tensors.size() - 1);
  EXPECT_EQ(find_pair(plan, {-1, "lm_head.weight", -1}), nullptr);
}

TEST(Plan, ShapeMismatchIsListedOnBothSides) {
  auto specs_b = llama_specs(3, 64, 96, 300, dtype::bf16);
  for (auto& s : specs_b)
    if (s.name == "model.layers.1.mlp.up_proj.weight") s.shape = {64, 96};  // transposed
  const work_plan plan = plan_of(llama(), test::make_checkpoint("/models/b", "llama", specs_b));
  ASSERT_EQ(plan.unpaired.size(), 2U);
  const unpaired_tensor* in_a = find_unpaired(plan, 'a', "model.layers.1.mlp.up_proj.weight");
  const unpaired_tensor* in_b = find_unpaired(plan, 'b', "model.layers.1.mlp.up_proj.weight");
  ASSERT_NE(in_a, nullptr);
  ASSERT_NE(in_b, nullptr);
  EXPECT_EQ(in_a->reason, "shape [96, 64] in model A but [64, 96] in model B");
  EXPECT_EQ(in_b->reason, in_a->reason);
  EXPECT_EQ(in_a->shape, (std::vector<std::uint64_t>{96, 64}));
  EXPECT_EQ(in_b->shape, (std::vector<std::uint64_t>{64, 96}));
  EXPECT_EQ(find_pair(plan, {1, "mlp.up_proj.weight", -1}), nullptr);
  EXPECT_NE(find_pair(plan, {0, "mlp.up_proj.weight", -1}), nullptr);
}

TEST(Plan, AmbiguousKeysAreListedNotPaired) {
  // "01" and "1" are the same layer: two tensors of A claim one key.
  const checkpoint a = test::make_checkpoint(
      "/a", "",
      {{"blocks.1.w", {4}, dtype::f32}, {"blocks.01.w", {4}, dtype::f32}, {"blocks.2.w", {4}, dtype::f32}});
  const checkpoint b = test::make_checkpoint("/b", "",
                                             {{"blocks.1.w", {4}, dtype::f32},
                                              {"blocks.2.w", {4}, dtype::f32},
                                              {"extra.3.w", {2}, dtype::f32},
                                              {"extra.03.w", {2}, dtype::f32}});
  const work_plan plan = plan_of(a, b);
  ASSERT_EQ(plan.pairs.size(), 1U);
  EXPECT_EQ(plan.pairs[0].key, (tensor_key{2, "blocks.*.w", -1}));
  const std::string reason = "ambiguous key: 2 tensors of model A and 1 of model B map to it";
  for (const auto& [side, name] :
       {std::pair<char, std::string>{'a', "blocks.1.w"}, {'a', "blocks.01.w"}, {'b', "blocks.1.w"}}) {
    const unpaired_tensor* u = find_unpaired(plan, side, name);
    ASSERT_NE(u, nullptr) << side << " " << name;
    EXPECT_EQ(u->reason, reason);
    EXPECT_EQ(u->key, (tensor_key{1, "blocks.*.w", -1}));
  }
  // Ambiguous only within B, and absent from A: listed as missing from A.
  for (const char* name : {"extra.3.w", "extra.03.w"}) {
    const unpaired_tensor* u = find_unpaired(plan, 'b', name);
    ASSERT_NE(u, nullptr) << name;
    EXPECT_EQ(u->reason, "no tensor with this key in model A");
  }
  EXPECT_EQ(plan.unpaired.size(), 5U);
}

TEST(Plan, GenericFallbackWhenOneModelTypeIsUnknown) {
  const checkpoint a = llama();
  checkpoint b = llama();
  b.model_type = "mystery_lm";
  b.config["model_type"] = "mystery_lm";
  const work_plan plan = plan_of(a, b);
  EXPECT_EQ(plan.model_a.architecture, "generic");
  EXPECT_EQ(plan.model_b.architecture, "generic");
  EXPECT_EQ(plan.model_a.model_type, "llama");
  EXPECT_EQ(plan.model_b.model_type, "mystery_lm");
  EXPECT_TRUE(plan.unpaired.empty());
  ASSERT_EQ(plan.pairs.size(), a.tensors.size());
  // Keys are the generic ones: the layer component replaced by "*".
  EXPECT_NE(find_pair(plan, {1, "model.layers.*.input_layernorm.weight", -1}), nullptr);
  EXPECT_EQ(find_pair(plan, {1, "input_layernorm.weight", -1}), nullptr);
  EXPECT_NE(find_pair(plan, {-1, "model.embed_tokens.weight", -1}), nullptr);

  // Known on both sides: the rule sets, not names, decide.
  const work_plan known = plan_of(a, llama());
  EXPECT_EQ(known.model_b.architecture, "llama");
  EXPECT_NE(find_pair(known, {1, "input_layernorm.weight", -1}), nullptr);
}

TEST(Plan, KnownArchitecturesPairAcrossNamingSchemes) {
  std::vector<tensor_spec> mixtral, qwen;
  for (int e = 0; e < 3; ++e) {
    const std::string es = std::to_string(e);
    mixtral.push_back({"model.layers.0.block_sparse_moe.experts." + es + ".w1.weight", {16, 8}, dtype::bf16});
    mixtral.push_back({"model.layers.0.block_sparse_moe.experts." + es + ".w2.weight", {8, 16}, dtype::bf16});
    qwen.push_back({"model.layers.0.mlp.experts." + es + ".gate_proj.weight", {16, 8}, dtype::bf16});
    qwen.push_back({"model.layers.0.mlp.experts." + es + ".down_proj.weight", {8, 16}, dtype::bf16});
  }
  mixtral.push_back({"model.layers.0.block_sparse_moe.gate.weight", {3, 8}, dtype::bf16});
  qwen.push_back({"model.layers.0.mlp.gate.weight", {3, 8}, dtype::bf16});
  const work_plan plan = plan_of(test::make_checkpoint("/m", "mixtral", mixtral),
                                 test::make_checkpoint("/q", "qwen2_moe", qwen));
  EXPECT_TRUE(plan.unpaired.empty());
  EXPECT_EQ(plan.pairs.size(), 7U);
  const tensor_pair* gate2 = find_pair(plan, {0, "mlp.experts.gate_proj.weight", 2});
  ASSERT_NE(gate2, nullptr);
  EXPECT_EQ(gate2->a.name, "model.layers.0.block_sparse_moe.experts.2.w1.weight");
  EXPECT_EQ(gate2->b.name, "model.layers.0.mlp.experts.2.gate_proj.weight");
  const tensor_pair* router = find_pair(plan, {0, "mlp.router.weight", -1});
  ASSERT_NE(router, nullptr);
  EXPECT_EQ(router->b.name, "model.layers.0.mlp.gate.weight");
  EXPECT_EQ(plan.model_a.architecture, "mixtral");
  EXPECT_EQ(plan.model_b.architecture, "qwen2_moe");
}

TEST(Plan, FusedTensorViewsPointIntoTheirRows) {
  // phi3: qkv_proj rows are q (heads·head_dim = 64) | k (32) | v (32); gate_up rows gate | up.
  const nlohmann::json config = {
      {"hidden_size", 64}, {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"intermediate_size", 96}};
  const std::vector<tensor_spec> fused = {
      {"model.layers.0.self_attn.qkv_proj.weight", {128, 64}, dtype::bf16},
      {"model.layers.0.mlp.gate_up_proj.weight", {192, 64}, dtype::bf16}};
  const std::vector<tensor_spec> split = {{"model.layers.0.self_attn.q_proj.weight", {64, 64}, dtype::f32},
                                          {"model.layers.0.self_attn.k_proj.weight", {32, 64}, dtype::f32},
                                          {"model.layers.0.self_attn.v_proj.weight", {32, 64}, dtype::f32},
                                          {"model.layers.0.mlp.gate_proj.weight", {96, 64}, dtype::f32},
                                          {"model.layers.0.mlp.up_proj.weight", {96, 64}, dtype::f32}};
  const checkpoint a = test::make_checkpoint("/phi", "phi3", fused, config);
  const checkpoint b = test::make_checkpoint("/llama", "llama", split);
  const work_plan plan = plan_of(a, b, 1000);
  EXPECT_TRUE(plan.unpaired.empty());
  ASSERT_EQ(plan.pairs.size(), 5U);
  const auto& qkv = *std::find_if(a.tensors.begin(), a.tensors.end(),
                                  [](const auto& t) { return t.name.ends_with("qkv_proj.weight"); });
  const auto& gate_up = *std::find_if(a.tensors.begin(), a.tensors.end(),
                                      [](const auto& t) { return t.name.ends_with("gate_up_proj.weight"); });
  struct expected_view {
    tensor_key key;
    std::string label;
    std::uint64_t byte_offset, rows;
  };
  const std::vector<expected_view> views = {
      {{0, "self_attn.q_proj.weight", -1}, qkv.name + "[q_proj]", qkv.byte_offset, 64},
      {{0, "self_attn.k_proj.weight", -1}, qkv.name + "[k_proj]", qkv.byte_offset + 64 * 64 * 2, 32},
      {{0, "self_attn.v_proj.weight", -1}, qkv.name + "[v_proj]", qkv.byte_offset + 96 * 64 * 2, 32},
      {{0, "mlp.gate_proj.weight", -1}, gate_up.name + "[gate_proj]", gate_up.byte_offset, 96},
      {{0, "mlp.up_proj.weight", -1}, gate_up.name + "[up_proj]", gate_up.byte_offset + 96 * 64 * 2, 96}};
  for (const auto& v : views) {
    SCOPED_TRACE(v.label);
    const tensor_pair* pair = find_pair(plan, v.key);
    ASSERT_NE(pair, nullptr);
    EXPECT_EQ(pair->a.name, v.label);
    EXPECT_EQ(pair->a.byte_offset, v.byte_offset);
    EXPECT_EQ(pair->a.shape, (std::vector<std::uint64_t>{v.rows, 64}));
    EXPECT_EQ(pair->a.elements, v.rows * 64);
    EXPECT_EQ(pair->b.elements, v.rows * 64);
    // The blocks of a view stay inside its rows.
    for (std::uint64_t i = pair->first_block; i < pair->first_block + pair->block_count; ++i) {
      const work_block& block = plan.blocks[i];
      EXPECT_GE(block.a.byte_offset, v.byte_offset);
      EXPECT_LE(block.a.byte_offset + block.elements * 2, v.byte_offset + v.rows * 64 * 2);
    }
  }
}

// --- blocks ----------------------------------------------------------------------------------------

TEST(Plan, BlocksCoverEachTensorInFixedSizes) {
  const checkpoint a = llama(dtype::bf16), b = llama(dtype::f32);
  for (const std::uint64_t block_elements : {1ull, 1000ull, 4096ull, 4097ull, 1ull << 22}) {
    SCOPED_TRACE(testing::Message() << "block_elements " << block_elements);
    const work_plan plan = plan_of(a, b, block_elements);
    EXPECT_EQ(plan.block_elements, block_elements);
    std::uint64_t next_block = 0;
    for (std::size_t p = 0; p < plan.pairs.size(); ++p) {
      const tensor_pair& pair = plan.pairs[p];
      EXPECT_EQ(pair.first_block, next_block);
      EXPECT_EQ(pair.block_count, (pair.a.elements + block_elements - 1) / block_elements);
      std::uint64_t covered = 0;
      for (std::uint64_t i = pair.first_block; i < pair.first_block + pair.block_count; ++i) {
        const work_block& block = plan.blocks.at(i);
        EXPECT_EQ(block.pair, p);
        EXPECT_EQ(block.first_element, covered);
        const bool last = i + 1 == pair.first_block + pair.block_count;
        EXPECT_EQ(block.elements, last ? pair.a.elements - covered : block_elements);
        EXPECT_GT(block.elements, 0U);
        EXPECT_EQ(block.a.byte_offset, pair.a.byte_offset + covered * 2);  // BF16
        EXPECT_EQ(block.b.byte_offset, pair.b.byte_offset + covered * 4);  // F32
        EXPECT_EQ(block.a.type, dtype::bf16);
        EXPECT_EQ(block.b.type, dtype::f32);
        EXPECT_EQ(block.a.file, pair.a.file);
        covered += block.elements;
      }
      EXPECT_EQ(covered, pair.a.elements);
      next_block += pair.block_count;
    }
    EXPECT_EQ(next_block, plan.blocks.size());
    std::uint64_t bytes = 0;
    for (const auto& pair : plan.pairs) bytes += pair.a.elements * 6;
    EXPECT_EQ(plan.total_bytes(), bytes);
  }
}

TEST(Plan, ZeroElementTensorsGetNoBlocks) {
  const std::vector<tensor_spec> specs = {
      {"empty.0.w", {0, 8}, dtype::bf16}, {"full.0.w", {10}, dtype::bf16}, {"scalar.0.w", {}, dtype::bf16}};
  const work_plan plan =
      plan_of(test::make_checkpoint("/a", "", specs), test::make_checkpoint("/b", "", specs), 4, 3);
  ASSERT_EQ(plan.pairs.size(), 3U);
  const tensor_pair* empty = find_pair(plan, {0, "empty.*.w", -1});
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->block_count, 0U);
  EXPECT_EQ(empty->a.elements, 0U);
  const tensor_pair* full = find_pair(plan, {0, "full.*.w", -1});
  ASSERT_NE(full, nullptr);
  EXPECT_EQ(full->block_count, 3U);  // 4 + 4 + 2
  const tensor_pair* scalar = find_pair(plan, {0, "scalar.*.w", -1});
  ASSERT_NE(scalar, nullptr);
  EXPECT_EQ(scalar->block_count, 1U);  // a 0-d tensor holds one element
  EXPECT_EQ(plan.blocks.size(), 4U);
  EXPECT_EQ(plan.rank_first_block.front(), 0U);
  EXPECT_EQ(plan.rank_first_block.back(), 4U);
}

TEST(Plan, BlocksDoNotDependOnRankCount) {
  const checkpoint a = llama(dtype::bf16), b = llama(dtype::f16);
  const work_plan one = plan_of(a, b, 1000, 1);
  for (int ranks = 2; ranks <= 5; ++ranks) {
    SCOPED_TRACE(testing::Message() << ranks << " ranks");
    const work_plan many = plan_of(a, b, 1000, ranks);
    expect_same_plan(one, many, false);
    EXPECT_EQ(many.ranks(), ranks);
  }
}

TEST(Plan, DealingIsContiguousAndCoversEveryBlockOnce) {
  const checkpoint a = llama(dtype::bf16), b = llama(dtype::f32);
  const work_plan tiny = plan_of(test::make_checkpoint("/a", "", {{"w", {10}, dtype::f32}}),
                                 test::make_checkpoint("/b", "", {{"w", {10}, dtype::f32}}), 4, 1);
  for (int ranks = 1; ranks <= 8; ++ranks) {
    for (const bool small : {false, true}) {
      SCOPED_TRACE(testing::Message() << ranks << " ranks" << (small ? ", 3 blocks" : ""));
      work_plan plan = small ? tiny : plan_of(a, b, 1000, 1);
      assign_blocks(plan, ranks);
      ASSERT_EQ(plan.rank_first_block.size(), static_cast<std::size_t>(ranks) + 1);
      EXPECT_EQ(plan.ranks(), ranks);
      EXPECT_EQ(plan.rank_first_block.front(), 0U);
      EXPECT_EQ(plan.rank_first_block.back(), plan.blocks.size());
      std::vector<int> owners(plan.blocks.size(), 0);
      for (int r = 0; r < ranks; ++r) {
        const auto first = plan.rank_first_block[static_cast<std::size_t>(r)];
        const auto last = plan.rank_first_block[static_cast<std::size_t>(r) + 1];
        ASSERT_LE(first, last);
        for (auto i = first; i < last; ++i) ++owners[i];
      }
      EXPECT_TRUE(std::all_of(owners.begin(), owners.end(), [](int n) { return n == 1; }));
    }
  }
}

TEST(Plan, BytesPerRankWithinOneBlockOfIdealShare) {
  // Mixed dtypes and uneven tensors, so blocks differ in bytes.
  const checkpoint a = llama(dtype::bf16), b = llama(dtype::f32);
  for (const std::uint64_t block_elements : {1000ull, 3000ull, 777ull}) {
    for (int ranks = 1; ranks <= 7; ++ranks) {
      SCOPED_TRACE(testing::Message() << ranks << " ranks, blocks of " << block_elements);
      const work_plan plan = plan_of(a, b, block_elements, ranks);
      std::uint64_t largest = 0;
      for (const auto& block : plan.blocks) largest = std::max(largest, block_bytes(block));
      const double ideal = static_cast<double>(plan.total_bytes()) / ranks;
      std::uint64_t total = 0;
      for (int r = 0; r < ranks; ++r) {
        std::uint64_t bytes = 0;
        for (auto i = plan.rank_first_block[static_cast<std::size_t>(r)];
             i < plan.rank_first_block[static_cast<std::size_t>(r) + 1]; ++i)
          bytes += block_bytes(plan.blocks[i]);
        EXPECT_LE(std::fabs(static_cast<double>(bytes) - ideal), static_cast<double>(largest))
            << "rank " << r;
        total += bytes;
      }
      EXPECT_EQ(total, plan.total_bytes());
    }
  }
}

TEST(Plan, RejectsZeroBlockElementsAndRankCounts) {
  const checkpoint a = llama();
  EXPECT_THROW((void)plan_of(a, a, 0), usage_error);
  work_plan plan = plan_of(a, a);
  EXPECT_THROW(assign_blocks(plan, 0), internal_error);
  EXPECT_THROW(assign_blocks(plan, -2), internal_error);
}

// --- permutation nulls ----------------------------------------------------------------------------

// The nulls' axes, units and draws: test_plan_units.cpp.

TEST(Plan, NullDealingCoversEveryNullAndBalancesTime) {
  work_plan plan = plan_of(llama(), llama(dtype::f32));
  double total = 0, largest = 0;
  for (const auto& request : plan.nulls) {
    total += unit_seconds(request);
    largest = std::max(largest, unit_seconds(request));
  }
  for (int ranks = 1; ranks <= 6; ++ranks) {
    SCOPED_TRACE(testing::Message() << ranks << " ranks");
    assign_units(plan, ranks);
    ASSERT_EQ(plan.null_rank.size(), plan.nulls.size());
    std::vector<double> load(static_cast<std::size_t>(ranks), 0);
    for (std::size_t i = 0; i < plan.nulls.size(); ++i) {
      ASSERT_LT(plan.null_rank[i], static_cast<std::uint32_t>(ranks));
      load[plan.null_rank[i]] += unit_seconds(plan.nulls[i]);
    }
    // Greedy by estimated time (plan/time_estimate.hpp), largest first: no rank exceeds the ideal
    // share by more than the largest null (and a nanosecond of rounding per null).
    for (const double l : load) EXPECT_LE(l, total / ranks + largest + 1e-9 * static_cast<double>(plan.nulls.size()));
  }
  EXPECT_THROW(assign_units(plan, 0), internal_error);
}

TEST(Plan, KeyTextNamesLayerRoleAndExpert) {
  EXPECT_EQ(key_text({3, "mlp.experts.up_proj.weight", 7}), "layer 3 / mlp.experts.up_proj.weight / expert 7");
  EXPECT_EQ(key_text({-1, "norm.weight", -1}), "global / norm.weight");
}

// --- the broadcast form ------------------------------------------------------------------------

TEST(Plan, SerializationRoundTripIsExact) {
  auto specs_b = llama_specs(3, 64, 96, 300, dtype::f32, false);
  specs_b.push_back({"model.layers.7.self_attn.q_norm.weight", {16}, dtype::f16});
  for (auto& s : specs_b)
    if (s.name == "model.layers.0.mlp.down_proj.weight") s.shape = {96, 64};
  const checkpoint a = llama(dtype::bf16);
  const checkpoint b = test::make_checkpoint("/models/b with spaces/ünïcode", "llama", specs_b,
                                             {{"hidden_size", 64}, {"note", "line\nbreak"}});
  for (const int ranks : {1, 3, 5}) {
    const work_plan plan = plan_of(a, b, 1000, ranks);
    ASSERT_FALSE(plan.unpaired.empty());
    const std::vector<char> bytes = serialize_plan(plan);
    const work_plan back = deserialize_plan(bytes);
    expect_same_plan(plan, back, true);
    EXPECT_EQ(serialize_plan(back), bytes);
  }
  const work_plan empty;
  expect_same_plan(empty, deserialize_plan(serialize_plan(empty)), true);
}

}  // namespace
}  // namespace lineage
