// The planner's part in expert matching (plan/plan_experts.cpp): one unit per MoE layer with a
// sample of one run of neurons in every expert role, and the pairing a matching result makes — B's
// experts re-keyed to the A expert they matched, unmatched experts unpaired with the reason, the
// sampled neurons left out of the matched pairs' nulls, routers paired by key only.
#include <gtest/gtest.h>

#include <set>

#include "arch/architecture_map.hpp"
#include "core/error.hpp"
#include "plan/plan.hpp"
#include "plan/plan_io.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using test::tensor_spec;

const architecture_registry& registry() { return test::embedded_registry(); }

// A mixtral layer 0 with `experts` experts (w1 [32, 8], w2 [8, 32]) and its router [experts, 8].
checkpoint mixtral(const std::string& root, int experts) {
  std::vector<tensor_spec> specs;
  for (int e = 0; e < experts; ++e) {
    const std::string prefix = "model.layers.0.block_sparse_moe.experts." + std::to_string(e);
    specs.push_back({prefix + ".w1.weight", {32, 8}, dtype::f32});
    specs.push_back({prefix + ".w2.weight", {8, 32}, dtype::f32});
  }
  specs.push_back({"model.layers.0.block_sparse_moe.gate.weight", {static_cast<std::uint64_t>(experts), 8}, dtype::f32});
  specs.push_back({"model.layers.0.input_layernorm.weight", {8}, dtype::f32});
  return test::make_checkpoint(root, "mixtral", specs);
}

plan_options options(std::uint32_t permutations_experts, const std::vector<expert_match_result>* matching = nullptr) {
  plan_options o;
  o.block_elements = 100;
  o.nulls.permutations_experts = permutations_experts;
  o.expert_matching = matching;
  return o;
}

using test::find_pair;

TEST(PlanExperts, OneUnitPerMoELayerSamplesAQuarterOfEachRole) {
  const checkpoint a = mixtral("/a", 4), b = mixtral("/b", 3);
  const work_plan plan = make_plan(a, b, registry(), options(30));
  ASSERT_EQ(plan.expert_matches.size(), 1u);
  EXPECT_TRUE(plan.awaits_expert_matching());
  const auto& request = plan.expert_matches[0];
  EXPECT_EQ(request.layer, 0);
  EXPECT_EQ(request.experts_a, (std::vector<std::int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(request.experts_b, (std::vector<std::int32_t>{0, 1, 2}));
  ASSERT_EQ(request.blocks.size(), 2u);
  // One run of a quarter of the 32 neurons: rows of w1 (gate), columns of w2 (down).
  std::set<std::uint64_t> first_neuron;
  for (const auto& block : request.blocks) {
    SCOPED_TRACE(block.role);
    const bool down = block.role == "mlp.experts.down_proj.weight";
    EXPECT_EQ(down ? block.column_count : block.row_count, 8u);
    first_neuron.insert(down ? block.column_begin : block.row_begin);
    EXPECT_LE(block.row_begin + block.row_count, block.rows);
    EXPECT_LE(block.column_begin + block.column_count, block.row_length);
    EXPECT_GT(block.elements(), 0u);
  }
  EXPECT_EQ(first_neuron.size(), 1u);
  EXPECT_EQ(request.a.size(), 4u * 2);
  EXPECT_EQ(request.b.size(), 3u * 2);
  EXPECT_EQ(request.permutations, 30u);
  EXPECT_EQ(plan.expert_match_rank.size(), 1u);
  // Before matching, experts pair by index and the fourth of A has no partner.
  EXPECT_NE(find_pair(plan, {0, "mlp.experts.gate_proj.weight", 0}), nullptr);
  // K = 0 turns matching off.
  EXPECT_TRUE(make_plan(a, b, registry(), options(0)).expert_matches.empty());
}

TEST(PlanExperts, TheMatchingRekeysExpertsAndLeavesTheRoutersByKey) {
  const checkpoint a = mixtral("/a", 4), b = mixtral("/b", 3);
  const work_plan first = make_plan(a, b, registry(), options(30));
  expert_match_result result;
  result.request = 0;
  result.usable = true;
  result.matched_b = {2, -1, 0, 1};  // A expert 1 is left out (A has one expert more)
  result.similarity.assign(12, 0.0);
  result.null_scores = {0.1, 0.2};
  const std::vector<expert_match_result> results{result};
  const work_plan plan = make_plan(a, b, registry(), options(30, &results));
  EXPECT_FALSE(plan.awaits_expert_matching());
  ASSERT_EQ(plan.expert_matching.size(), 1u);

  const tensor_pair* up0 = find_pair(plan, {0, "mlp.experts.gate_proj.weight", 0});
  ASSERT_NE(up0, nullptr);
  EXPECT_EQ(up0->b.name, "model.layers.0.block_sparse_moe.experts.2.w1.weight");
  EXPECT_EQ(up0->pairing, "expert matching");
  const auto& block = first.expert_matches[0].blocks[0].role == "mlp.experts.gate_proj.weight"
                          ? first.expert_matches[0].blocks[0]
                          : first.expert_matches[0].blocks[1];
  EXPECT_EQ(up0->exclude_begin, block.row_begin);
  EXPECT_EQ(up0->exclude_end, block.row_begin + block.row_count);
  EXPECT_EQ(find_pair(plan, {0, "mlp.experts.gate_proj.weight", 1}), nullptr);
  std::size_t not_matched = 0, routers = 0;
  for (const auto& u : plan.unpaired) {
    if (u.key.role == "mlp.router.weight") {
      // [4, 8] against [3, 8]: a router in the matched order would be tested on a pairing the
      // matching chose; it pairs by key or not at all.
      EXPECT_NE(u.reason.find("shape"), std::string::npos) << u.reason;
      ++routers;
      continue;
    }
    EXPECT_EQ(u.side, 'a') << u.name;
    EXPECT_NE(u.reason.find("not matched to an expert of model B"), std::string::npos) << u.reason;
    EXPECT_NE(u.name.find("experts.1."), std::string::npos) << u.name;
    ++not_matched;
  }
  EXPECT_EQ(not_matched, 2u);  // w1 and w2 of A's expert 1
  EXPECT_EQ(routers, 2u);
  // The matched experts' nulls leave out the sampled neurons: rows of w1, columns of w2.
  const tensor_pair* down0 = find_pair(plan, {0, "mlp.experts.down_proj.weight", 0});
  ASSERT_NE(down0, nullptr);
  EXPECT_EQ(down0->exclude_begin, up0->exclude_begin);
  EXPECT_EQ(down0->exclude_end, up0->exclude_end);
  bool expert_null = false;
  for (const auto& null : plan.nulls) {
    if (null.pair == static_cast<std::uint32_t>(up0 - plan.pairs.data())) {
      expert_null = true;
      EXPECT_EQ(null.axis, 0);
      EXPECT_EQ(null.exclude_begin, up0->exclude_begin);
      EXPECT_EQ(null.tested_units(), 32u - block.row_count);
    }
    if (null.pair == static_cast<std::uint32_t>(down0 - plan.pairs.data())) {
      EXPECT_EQ(null.axis, 1);
      EXPECT_EQ(null.tested_units(), 32u - block.row_count);
    }
  }
  EXPECT_TRUE(expert_null);

  // The plan with its matching survives the broadcast form.
  const work_plan back = deserialize_plan(serialize_plan(plan));
  EXPECT_EQ(serialize_plan(back), serialize_plan(plan));
  ASSERT_EQ(back.expert_matching.size(), 1u);
  EXPECT_EQ(back.expert_matching[0].matched_b, result.matched_b);
}

TEST(PlanExperts, AnUnusableMatchingKeepsPairingByIndex) {
  const checkpoint a = mixtral("/a", 3), b = mixtral("/b", 3);
  expert_match_result result;
  result.reason = "non-finite values in the sampled blocks of model A";
  const std::vector<expert_match_result> results{result};
  const work_plan plan = make_plan(a, b, registry(), options(30, &results));
  const tensor_pair* pair = find_pair(plan, {0, "mlp.experts.down_proj.weight", 2});
  ASSERT_NE(pair, nullptr);
  EXPECT_EQ(pair->pairing, "key");
  EXPECT_EQ(pair->exclude_end, 0u);
  EXPECT_TRUE(find_pair(plan, {0, "mlp.router.weight", -1})->rows_a.empty());
}

TEST(PlanExperts, ResultsMustMatchTheUnits) {
  const checkpoint a = mixtral("/a", 3), b = mixtral("/b", 3);
  const std::vector<expert_match_result> none;
  EXPECT_THROW((void)make_plan(a, b, registry(), options(30, &none)), internal_error);
}

// A llama layer's MLP of `neurons` neurons over `hidden` dimensions (and a norm, to be ignored).
std::vector<tensor_spec> mlp_layer(int layer, std::uint64_t neurons, std::uint64_t hidden) {
  const std::string p = "model.layers." + std::to_string(layer) + ".";
  return {{p + "mlp.gate_proj.weight", {neurons, hidden}, dtype::bf16},
          {p + "mlp.up_proj.weight", {neurons, hidden}, dtype::bf16},
          {p + "mlp.down_proj.weight", {hidden, neurons}, dtype::bf16},
          {p + "input_layernorm.weight", {hidden}, dtype::bf16}};
}

checkpoint llama_mlps(const std::string& root, const std::vector<std::pair<std::uint64_t, std::uint64_t>>& layers) {
  std::vector<tensor_spec> specs;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const auto layer = mlp_layer(static_cast<int>(l), layers[l].first, layers[l].second);
    specs.insert(specs.end(), layer.begin(), layer.end());
  }
  return test::make_checkpoint(root, "llama", specs);
}

TEST(PlanNeurons, OneUnitPerMlpWithTheSameHiddenSize) {
  // Layer 0 equal, layer 1 pruned in B (fewer neurons), layer 2 of another hidden size in B.
  const checkpoint a = llama_mlps("/a", {{96, 64}, {96, 64}, {96, 64}});
  const checkpoint b = llama_mlps("/b", {{96, 64}, {80, 64}, {96, 32}});
  const work_plan plan = make_plan(a, b, registry(), options(30));
  ASSERT_EQ(plan.neuron_matches.size(), 2u);
  const auto& first = plan.neuron_matches[0];
  EXPECT_EQ(first.layer, 0);
  EXPECT_EQ(first.group, "mlp.");
  EXPECT_EQ(first.neurons_a, 96u);
  EXPECT_EQ(first.neurons_b, 96u);
  EXPECT_EQ(first.hidden, 64u);
  EXPECT_EQ(first.column_count, 64u);  // all of them: fewer than 1024
  EXPECT_EQ(first.column_begin, 0u);
  EXPECT_EQ(plan.neuron_matches[1].layer, 1);
  EXPECT_EQ(plan.neuron_matches[1].neurons_b, 80u);
  EXPECT_EQ(plan.neuron_match_rank.size(), 2u);
  // The locations point at the tensors of the right side and role.
  const tensor_pair* gate0 = find_pair(plan, {0, "mlp.gate_proj.weight", -1});
  ASSERT_NE(gate0, nullptr);
  EXPECT_EQ(first.gate_a.byte_offset, gate0->a.byte_offset);
  EXPECT_EQ(first.gate_b.byte_offset, gate0->b.byte_offset);
  // Switched off, and the wire form.
  plan_options off = options(30);
  off.nulls.match_neurons = false;
  EXPECT_TRUE(make_plan(a, b, registry(), off).neuron_matches.empty());
  const work_plan back = deserialize_plan(serialize_plan(plan));
  EXPECT_EQ(back.neuron_matches.size(), 2u);
  EXPECT_EQ(back.neuron_matches[1].neurons_b, 80u);
}

TEST(PlanNeurons, RoutedExpertsAreNotNeuronMatchedAndTheFirstPlanWaits) {
  const checkpoint a = mixtral("/a", 3), b = mixtral("/b", 3);
  // The plan made before expert matching computes nothing but the matching.
  EXPECT_TRUE(make_plan(a, b, registry(), options(30)).neuron_matches.empty());
  expert_match_result result;
  result.usable = true;
  result.matched_b = {0, 1, 2};
  const std::vector<expert_match_result> results{result};
  EXPECT_TRUE(make_plan(a, b, registry(), options(30, &results)).neuron_matches.empty());
}

}  // namespace
}  // namespace lineage
