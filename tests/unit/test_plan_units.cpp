// The plan's test units (plan/plan_axes.cpp, plan_symmetry.cpp, plan_units.cpp): each pair's axes,
// the axis its null permutes, the unit whose draws it shares, and what is never permuted — tokens,
// classes, RoPE dimensions, fixed buffers, axes of unknown meaning.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include "plan/plan.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using test::tensor_spec;

const architecture_registry& registry() { return test::embedded_registry(); }

// A Llama with q/k/v biases, 8 query heads on 2 KV heads (head_dim 8), and a classifier head the
// rules do not know (score.*) plus a constant RoPE buffer.
checkpoint llama(dtype type = dtype::bf16, int layers = 2) {
  std::vector<tensor_spec> specs = {{"model.embed_tokens.weight", {300, 64}, type},
                                    {"model.norm.weight", {64}, type},
                                    {"lm_head.weight", {300, 64}, type},
                                    {"score.weight", {5, 64}, type},
                                    {"score.bias", {5}, type}};
  for (int l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    for (const auto& [name, shape] :
         std::map<std::string, std::vector<std::uint64_t>>{{"input_layernorm.weight", {64}},
                                                           {"post_attention_layernorm.weight", {64}},
                                                           {"self_attn.q_proj.weight", {64, 64}},
                                                           {"self_attn.q_proj.bias", {64}},
                                                           {"self_attn.k_proj.weight", {16, 64}},
                                                           {"self_attn.v_proj.weight", {16, 64}},
                                                           {"self_attn.o_proj.weight", {64, 64}},
                                                           {"self_attn.rotary_emb.inv_freq", {4}},
                                                           {"mlp.gate_proj.weight", {96, 64}},
                                                           {"mlp.up_proj.weight", {96, 64}},
                                                           {"mlp.down_proj.weight", {64, 96}}})
      specs.push_back({p + name, shape, type});
  }
  return test::make_checkpoint("/models/llama", "llama", specs,
                               {{"num_attention_heads", 8}, {"num_key_value_heads", 2}, {"hidden_size", 64}});
}

const tensor_pair& pair_named(const work_plan& plan, const std::string& name) {
  for (const auto& pair : plan.pairs)
    if (pair.a.name == name) return pair;
  throw std::runtime_error("no pair " + name);
}

const symmetry_unit& unit_of(const work_plan& plan, const tensor_pair& pair) {
  return plan.units.at(static_cast<std::size_t>(pair.test_unit));
}

const null_request& request_of(const work_plan& plan, const tensor_pair& pair) {
  for (const auto& request : plan.nulls)
    if (&plan.pairs.at(request.pair) == &pair) return request;
  throw std::runtime_error("no null for " + pair.a.name);
}

TEST(PlanUnits, EachTensorPermutesItsLatestSymmetricAxis) {
  const work_plan plan = make_plan(llama(), llama(dtype::f32), registry(), {1000, 2, {}});
  struct expectation {
    const char* name;
    const char* unit;
    int axis;
  };
  for (const expectation& e : {expectation{"model.embed_tokens.weight", "hidden dimensions", 1},
                               {"lm_head.weight", "hidden dimensions", 1},
                               {"model.norm.weight", "hidden dimensions", 0},
                               {"model.layers.1.input_layernorm.weight", "hidden dimensions", 0},
                               {"model.layers.1.self_attn.q_proj.weight", "layer 1 self_attn heads", 0},
                               {"model.layers.1.self_attn.q_proj.bias", "layer 1 self_attn heads", 0},
                               {"model.layers.1.self_attn.k_proj.weight", "layer 1 self_attn heads", 0},
                               {"model.layers.1.self_attn.v_proj.weight", "layer 1 self_attn values", 0},
                               {"model.layers.1.self_attn.o_proj.weight", "layer 1 self_attn values", 1},
                               {"model.layers.0.mlp.gate_proj.weight", "layer 0 mlp neurons", 0},
                               {"model.layers.0.mlp.up_proj.weight", "layer 0 mlp neurons", 0},
                               {"model.layers.0.mlp.down_proj.weight", "layer 0 mlp neurons", 1}}) {
    SCOPED_TRACE(e.name);
    const tensor_pair& pair = pair_named(plan, e.name);
    ASSERT_GE(pair.test_unit, 0) << pair.untested;
    EXPECT_EQ(unit_of(plan, pair).label, e.unit);
    EXPECT_EQ(pair.test_axis, e.axis);
    const null_request& request = request_of(plan, pair);
    EXPECT_EQ(request.axis, pair.a.shape.size() == 1 ? 1 : e.axis);
    EXPECT_EQ(request.seed, unit_of(plan, pair).seed);
    EXPECT_EQ(request.permutations, unit_of(plan, pair).permutations);
  }
  // Tokens, classes, RoPE frequencies: never permuted, and the report says why.
  for (const char* name : {"score.weight", "score.bias", "model.layers.0.self_attn.rotary_emb.inv_freq"}) {
    const tensor_pair& pair = pair_named(plan, name);
    EXPECT_LT(pair.test_unit, 0) << name;
    EXPECT_NE(pair.untested.find("no axis whose labels are arbitrary"), std::string::npos) << pair.untested;
  }
}

TEST(PlanUnits, UnitsHaveTheirGroupsAndTheirOwnSeeds) {
  const work_plan plan = make_plan(llama(), llama(dtype::f32), registry(), {1000, 2, {}});
  std::set<std::uint64_t> seeds;
  std::map<std::string, const symmetry_unit*> by_label;
  for (const auto& unit : plan.units) {
    seeds.insert(unit.seed);
    by_label[unit.label] = &unit;
    EXPECT_FALSE(unit.members.empty()) << unit.label;
  }
  EXPECT_EQ(seeds.size(), plan.units.size());
  // hidden, and per layer: heads, values, neurons.
  EXPECT_EQ(plan.units.size(), 1u + 2u * 3u);
  EXPECT_EQ(plan.units.front().kind, "hidden");  // the first component of the order
  const auto& heads = *by_label.at("layer 0 self_attn heads");
  EXPECT_EQ(heads.group.kind, symmetry_group::form::heads);
  EXPECT_EQ(heads.group.kv_heads, 2u);
  EXPECT_EQ(heads.group.group, 4u);
  EXPECT_EQ(heads.group.within, 0u);  // llama has RoPE: dimensions inside a q/k head stay
  const auto& values = *by_label.at("layer 0 self_attn values");
  EXPECT_EQ(values.group.kind, symmetry_group::form::within);
  EXPECT_EQ(values.group.within, 8u);
  const auto& neurons = *by_label.at("layer 0 mlp neurons");
  EXPECT_EQ(neurons.group.kind, symmetry_group::form::plain);
  EXPECT_EQ(neurons.group.units, 96u);
  EXPECT_EQ(neurons.members.size(), 3u);
  // Small axes are computed from cross products, with many draws.
  EXPECT_EQ(neurons.permutations, null_options{}.permutations_products);
  // Another job seed moves every unit's stream; the same one none.
  plan_options options{1000, 2, {}};
  options.nulls.seed = 7;
  const work_plan other = make_plan(llama(), llama(dtype::f32), registry(), options);
  options.nulls.seed = null_options{}.seed;
  const work_plan same = make_plan(llama(), llama(dtype::f32), registry(), options);
  for (std::size_t u = 0; u < plan.units.size(); ++u) {
    EXPECT_NE(other.units[u].seed, plan.units[u].seed);
    EXPECT_EQ(same.units[u].seed, plan.units[u].seed);
  }
}

TEST(PlanUnits, WideUnitsDrawCyclicShiftsUnlessAskedForRandomPermutations) {
  // A copy: the plans below are temporaries.
  const auto neurons_of = [](const work_plan& plan) -> symmetry_unit {
    for (const auto& unit : plan.units)
      if (unit.label == "layer 0 mlp neurons") return unit;
    throw std::runtime_error("no neurons unit");
  };
  // K = 40 direct draws for 96 neurons: their cross products cost more than the draws, the 95
  // shifts cover K and all of them cost less than the 41 passes, so the unit draws 40 shifts, every
  // member computed at once by FFT.
  plan_options options{1000, 1, {}};
  options.nulls.permutations_matrix = options.nulls.permutations_vector = 40;
  const work_plan plan = make_plan(llama(), llama(dtype::f32), registry(), options);
  const symmetry_unit cyclic = neurons_of(plan);
  EXPECT_EQ(cyclic.group.kind, symmetry_group::form::cyclic);
  EXPECT_EQ(cyclic.group.units, 96u);
  EXPECT_EQ(cyclic.permutations, 40u);
  for (const std::uint32_t m : cyclic.members) {
    const null_request& request = plan.nulls[m];
    EXPECT_EQ(request.group.kind, symmetry_group::form::cyclic);
    EXPECT_EQ(request.permutations, 40u);
    EXPECT_EQ(request.seed, cyclic.seed);
    EXPECT_FALSE(request.from_products);
    EXPECT_LT(request.cost(), 41u * request.pass_cost());  // below the 41 passes of random draws
  }
  // Random draws keep the plain group and its K.
  options.nulls.draws = null_draws::random;
  const symmetry_unit random = neurons_of(make_plan(llama(), llama(dtype::f32), registry(), options));
  EXPECT_EQ(random.group.kind, symmetry_group::form::plain);
  EXPECT_EQ(random.permutations, 40u);
  // With K = 10 the shifts would cost more than the 11 passes: random draws.
  options.nulls.draws = null_draws::automatic;
  options.nulls.permutations_matrix = options.nulls.permutations_vector = 10;
  EXPECT_EQ(neurons_of(make_plan(llama(), llama(dtype::f32), registry(), options)).group.kind,
            symmetry_group::form::plain);
  // Forced shifts on a unit cheap from cross products: all 95 of them (fewer than its 10000).
  plan_options forced{1000, 1, {}};
  forced.nulls.draws = null_draws::cyclic;
  const symmetry_unit all = neurons_of(make_plan(llama(), llama(dtype::f32), registry(), forced));
  EXPECT_EQ(all.group.kind, symmetry_group::form::cyclic);
  EXPECT_EQ(all.permutations, 95u);
  // Automatic never picks the shifts where the products are cheap (the default plan above).
  EXPECT_EQ(neurons_of(make_plan(llama(), llama(dtype::f32), registry(), {1000, 1, {}})).group.kind,
            symmetry_group::form::plain);
}

TEST(PlanUnits, WithoutHeadCountsAttentionIsNotTested) {
  checkpoint a = llama();
  a.config = nlohmann::json::object();
  const work_plan plan = make_plan(a, a, registry(), {1000, 1, {}});
  const tensor_pair& q = pair_named(plan, "model.layers.0.self_attn.q_proj.weight");
  EXPECT_LT(q.test_unit, 0);
  EXPECT_NE(q.untested.find("num_attention_heads"), std::string::npos) << q.untested;
  EXPECT_GE(pair_named(plan, "model.layers.0.mlp.up_proj.weight").test_unit, 0);
}

TEST(PlanUnits, ZeroPermutationsPlanNoNulls) {
  plan_options options{1000, 1, {0, 0, 1}};
  options.nulls.permutations_products = 0;
  const work_plan plan = make_plan(llama(), llama(), registry(), options);
  EXPECT_TRUE(plan.nulls.empty());
  EXPECT_TRUE(plan.units.empty());
}

// A model of unknown type: a two-layer MLP with biases, a classifier head outside the layers, an
// attention block and a fixed basis inside them.
checkpoint generic_model() {
  std::vector<tensor_spec> specs = {{"head.weight", {10, 8}, dtype::f32}, {"head.bias", {10}, dtype::f32}};
  for (int l = 0; l < 2; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    specs.push_back({p + "fc1.weight", {16, 8}, dtype::f32});
    specs.push_back({p + "fc1.bias", {16}, dtype::f32});
    specs.push_back({p + "fc2.weight", {8, 16}, dtype::f32});
    specs.push_back({p + "fc2.bias", {8}, dtype::f32});
    specs.push_back({p + "attn.query.weight", {8, 8}, dtype::f32});
    specs.push_back({p + "attn.proj.weight", {16, 8}, dtype::f32});
    specs.push_back({p + "stft_basis", {16, 6}, dtype::f32});
  }
  return test::make_checkpoint("/models/other", "some_new_type", specs);
}

TEST(PlanUnits, UnknownTypesGetAxesInferredFromChainedShapes) {
  const work_plan plan = make_plan(generic_model(), generic_model(), registry(), {1000, 1, {}});
  const auto axes = [&](const char* name) { return axes_text(pair_named(plan, name).axes); };
  EXPECT_EQ(axes("blocks.0.fc1.weight"), "[channel, channel]");
  EXPECT_EQ(axes("blocks.1.fc2.weight"), "[channel, channel]");
  EXPECT_EQ(axes("blocks.0.fc1.bias"), "[channel]");
  EXPECT_EQ(axes("head.weight"), "[unknown, unknown]");  // outside the layers: classes stay
  EXPECT_EQ(axes("head.bias"), "[unknown]");
  EXPECT_EQ(axes("blocks.0.attn.query.weight"), "[unknown, unknown]");  // heads cannot be seen in shapes
  EXPECT_EQ(axes("blocks.0.attn.proj.weight"), "[unknown, unknown]");
  EXPECT_EQ(axes("blocks.0.stft_basis"), "[unknown, unknown]");  // a fixed buffer by its name
  // One unit per width, the wider one later: fc1 and fc2 are tested on their 16-wide axis.
  const tensor_pair& fc1 = pair_named(plan, "blocks.0.fc1.weight");
  const tensor_pair& fc2 = pair_named(plan, "blocks.0.fc2.weight");
  EXPECT_EQ(unit_of(plan, fc1).label, "channels of width 16");
  EXPECT_EQ(fc1.test_axis, 0);
  EXPECT_EQ(fc2.test_axis, 1);
  EXPECT_EQ(unit_of(plan, pair_named(plan, "blocks.0.fc2.bias")).label, "channels of width 8");
  EXPECT_LT(pair_named(plan, "head.bias").test_unit, 0);
}

// LeNet: no layer indices at all. The hidden units and channels chain; the input channel, the
// flattened 400 and the 10 classes do not, so they stay unknown.
TEST(PlanUnits, NetworksWithoutLayerIndicesChainTheirGlobalTensors) {
  std::vector<tensor_spec> specs = {
      {"conv1.weight", {6, 1, 5, 5}, dtype::f32}, {"conv1.bias", {6}, dtype::f32},
      {"conv2.weight", {16, 6, 5, 5}, dtype::f32}, {"conv2.bias", {16}, dtype::f32},
      {"fc1.weight", {120, 400}, dtype::f32},      {"fc1.bias", {120}, dtype::f32},
      {"fc2.weight", {84, 120}, dtype::f32},       {"fc2.bias", {84}, dtype::f32},
      {"fc3.weight", {10, 84}, dtype::f32},        {"fc3.bias", {10}, dtype::f32}};
  const checkpoint model = test::make_checkpoint("/lenet", "", specs);
  const work_plan plan = make_plan(model, model, registry(), {1000, 1, {}});
  const auto axes = [&](const char* name) { return axes_text(pair_named(plan, name).axes); };
  EXPECT_EQ(axes("conv1.weight"), "[channel, unknown, unknown, unknown]");
  EXPECT_EQ(axes("conv2.weight"), "[unknown, channel, unknown, unknown]");
  EXPECT_EQ(axes("fc1.weight"), "[channel, unknown]");
  EXPECT_EQ(axes("fc2.weight"), "[channel, channel]");
  EXPECT_EQ(axes("fc3.weight"), "[unknown, channel]");
  EXPECT_EQ(axes("fc3.bias"), "[unknown]");  // classes
  EXPECT_EQ(axes("conv2.bias"), "[unknown]");
  // conv2 is tested on its input channels: column blocks of 5 × 5.
  const tensor_pair& conv2 = pair_named(plan, "conv2.weight");
  EXPECT_EQ(conv2.test_axis, 1);
  EXPECT_EQ(request_of(plan, conv2).inner, 25u);
  EXPECT_EQ(unit_of(plan, pair_named(plan, "fc2.weight")).label, "channels of width 120");
  EXPECT_LT(pair_named(plan, "fc3.bias").test_unit, 0);
}

TEST(PlanUnits, TwoAxesOfOneSymmetryAreNotTested) {
  // A square map of a layer's internal width: its rows and columns are one symmetry, which a null
  // would have to permute together.
  std::vector<tensor_spec> specs = {{"layers.0.a.weight", {6, 4}, dtype::f32},
                                    {"layers.0.b.weight", {4, 6}, dtype::f32},
                                    {"layers.0.mix.weight", {6, 6}, dtype::f32}};
  const checkpoint model = test::make_checkpoint("/m", "unknown_kind", specs);
  const work_plan plan = make_plan(model, model, registry(), {1000, 1, {}});
  EXPECT_EQ(axes_text(pair_named(plan, "layers.0.mix.weight").axes), "[unknown, unknown]");
  EXPECT_LT(pair_named(plan, "layers.0.mix.weight").test_unit, 0);
}

}  // namespace
}  // namespace lineage
