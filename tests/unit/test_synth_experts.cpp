// lineage synth, expert edits (permute-experts, drop-experts): every child expert is a bit-exact
// copy of the recorded parent expert, the router follows, and a permuted MoE layer computes the
// parent's function.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/error.hpp"
#include "synth/synth.hpp"
#include "test_synth_support.hpp"

namespace {

using namespace synth_test;
using lineage::synth::derivation;
using lineage::synth::derivation_kind;
using lineage::synth::model_shape;
using lineage::synth::write_derived_model;
using lineage::synth::write_independent_model;
using model_tensors = std::map<std::string, raw_tensor>;

constexpr std::uint64_t expert_count = 6;
constexpr const char* projections[] = {"gate_proj.weight", "up_proj.weight", "down_proj.weight"};

model_shape moe_shape() { return moe_test_shape(expert_count, 1); }

constexpr std::uint64_t moe_layers[] = {1, 2, 3};

std::filesystem::path make_parent(const std::string& label = "parent") {
  const auto dir = scratch_dir(label);
  write_independent_model(moe_shape(), 17, dir, {lineage::dtype::bf16, 2});
  return dir;
}

derivation expert_edit(derivation_kind kind, std::vector<std::uint64_t> experts = {}) {
  derivation how;
  how.kind = kind;
  how.experts = std::move(experts);
  return how;
}

std::string in_layer(std::uint64_t layer, const std::string& suffix) {
  return "model.layers." + std::to_string(layer) + "." + suffix;
}

std::string expert_tensor(std::uint64_t layer, std::uint64_t expert, const char* projection) {
  return in_layer(layer, "mlp.experts." + std::to_string(expert) + "." + projection);
}

std::vector<std::uint64_t> recorded(const nlohmann::json& list) {
  return list.get<std::vector<std::uint64_t>>();
}

// The child's routed experts of `layer` are parent experts sources[j], bit for bit, and its router
// rows and correction-bias elements are the parent's in the same order.
void expect_experts_follow(const model_tensors& parent, const model_tensors& child,
                           std::uint64_t layer, const std::vector<std::uint64_t>& sources) {
  for (std::size_t j = 0; j < sources.size(); ++j)
    for (const char* projection : projections) {
      const auto& from = parent.at(expert_tensor(layer, sources[j], projection));
      const auto& to = child.at(expert_tensor(layer, j, projection));
      EXPECT_EQ(to.shape, from.shape);
      EXPECT_EQ(to.bytes, from.bytes) << expert_tensor(layer, j, projection);
    }
  EXPECT_FALSE(child.count(expert_tensor(layer, sources.size(), "up_proj.weight")));
  const auto& parent_router = parent.at(in_layer(layer, "mlp.gate.weight"));
  const auto& child_router = child.at(in_layer(layer, "mlp.gate.weight"));
  const std::size_t row_bytes = parent_router.bytes.size() / expert_count;
  ASSERT_EQ(child_router.shape, (std::vector<std::uint64_t>{sources.size(), 32}));
  const auto& parent_bias = parent.at(in_layer(layer, "mlp.gate.e_score_correction_bias"));
  const auto& child_bias = child.at(in_layer(layer, "mlp.gate.e_score_correction_bias"));
  ASSERT_EQ(child_bias.shape, (std::vector<std::uint64_t>{sources.size()}));
  EXPECT_EQ(child_bias.dtype, "F32");
  for (std::size_t j = 0; j < sources.size(); ++j) {
    EXPECT_EQ(child_router.bytes.substr(j * row_bytes, row_bytes),
              parent_router.bytes.substr(sources[j] * row_bytes, row_bytes))
        << "router row " << j << " of layer " << layer;
    EXPECT_EQ(child_bias.bytes.substr(j * 4, 4), parent_bias.bytes.substr(sources[j] * 4, 4))
        << "bias element " << j << " of layer " << layer;
  }
}

// --- A forward pass of one glm4_moe MoE block, in double ---------------------------------------

struct matrix {
  std::size_t rows = 0, columns = 0;
  std::vector<double> values;
  std::vector<double> times(const std::vector<double>& x) const {
    std::vector<double> y(rows, 0.0);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t c = 0; c < columns; ++c) y[r] += values[r * columns + c] * x[c];
    return y;
  }
};

matrix matrix_of(const raw_tensor& tensor) {
  return {tensor.shape.at(0), tensor.shape.at(1), values_of(tensor)};
}

// down(silu(gate x) * up x)
std::vector<double> swiglu(const model_tensors& model, const std::string& prefix,
                           const std::vector<double>& x) {
  const auto gate = matrix_of(model.at(prefix + "gate_proj.weight")).times(x);
  const auto up = matrix_of(model.at(prefix + "up_proj.weight")).times(x);
  std::vector<double> inner(gate.size());
  for (std::size_t i = 0; i < gate.size(); ++i)
    inner[i] = gate[i] / (1.0 + std::exp(-gate[i])) * up[i];
  return matrix_of(model.at(prefix + "down_proj.weight")).times(inner);
}

// GLM-4.5 routing: sigmoid scores; the top k of score + correction bias are chosen; their scores,
// normalised to sum 1, weight the experts; the shared experts are added unweighted.
std::vector<double> moe_block(const model_tensors& model, std::uint64_t layer, std::size_t top_k,
                              const std::vector<double>& x) {
  const auto logits = matrix_of(model.at(in_layer(layer, "mlp.gate.weight"))).times(x);
  const auto bias = values_of(model.at(in_layer(layer, "mlp.gate.e_score_correction_bias")));
  std::vector<double> scores(logits.size()), choice(logits.size());
  for (std::size_t e = 0; e < logits.size(); ++e) {
    scores[e] = 1.0 / (1.0 + std::exp(-logits[e]));
    choice[e] = scores[e] + bias[e];
  }
  std::vector<std::size_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top_k), order.end(),
                    [&](std::size_t a, std::size_t b) { return choice[a] > choice[b]; });
  double weight_sum = 0;
  for (std::size_t k = 0; k < top_k; ++k) weight_sum += scores[order[k]];
  auto out = swiglu(model, in_layer(layer, "mlp.shared_experts."), x);
  for (std::size_t k = 0; k < top_k; ++k) {
    const auto expert =
        swiglu(model, in_layer(layer, "mlp.experts." + std::to_string(order[k]) + "."), x);
    for (std::size_t i = 0; i < out.size(); ++i)
      out[i] += scores[order[k]] / weight_sum * expert[i];
  }
  return out;
}

double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double difference = 0, norm = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    difference += (a[i] - b[i]) * (a[i] - b[i]);
    norm += a[i] * a[i];
  }
  return std::sqrt(difference / norm);
}

std::vector<double> random_input(std::mt19937_64& generator) {
  std::normal_distribution<double> normal;
  std::vector<double> x(32);
  for (double& v : x) v = normal(generator);
  return x;
}

// ------------------------------------------------------------------------------------------------

TEST(SynthExperts, PermuteCopiesEachExpertFromTheRecordedParentExpert) {
  const auto parent_dir = make_parent();
  const auto out = scratch_dir("permuted");
  auto how = expert_edit(derivation_kind::permute_experts);
  how.seed = 12;
  write_derived_model(parent_dir, out, how);
  const auto parent = read_model(parent_dir);
  const auto child = read_model(out);
  const auto config = read_json(out / "config.json");
  const auto& permutation = config.at("lineage_synth").at("expert_permutation");
  ASSERT_EQ(permutation.size(), std::size(moe_layers));
  EXPECT_EQ(config.at("lineage_synth").at("seed"), 12);
  EXPECT_EQ(config.at("n_routed_experts"), expert_count);
  std::vector<std::uint64_t> identity(expert_count);
  std::iota(identity.begin(), identity.end(), 0);
  for (const std::uint64_t layer : moe_layers) {
    const auto order = recorded(permutation.at(std::to_string(layer)));
    auto sorted = order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, identity) << "layer " << layer << " is not a permutation";
    EXPECT_NE(order, identity) << "layer " << layer << " was left as it was";
    expect_experts_follow(parent, child, layer, order);
  }
  // Everything but the routed experts and the routers is the parent's, bit for bit.
  ASSERT_EQ(child.size(), parent.size());
  for (const auto& [name, tensor] : parent) {
    const bool routed = name.find("mlp.experts.") != std::string::npos ||
                        name.find("mlp.gate.") != std::string::npos;
    if (!routed) {
      EXPECT_EQ(child.at(name).bytes, tensor.bytes) << name;
    }
  }
  // The permutations differ between layers and follow the seed.
  EXPECT_NE(permutation.at("1"), permutation.at("2"));
  const auto again = scratch_dir("again");
  write_derived_model(parent_dir, again, how);
  EXPECT_EQ(read_json(again / "config.json").at("lineage_synth").at("expert_permutation"),
            permutation);
  how.seed = 13;
  const auto other = scratch_dir("other");
  write_derived_model(parent_dir, other, how);
  EXPECT_NE(read_json(other / "config.json").at("lineage_synth").at("expert_permutation"),
            permutation);
}

TEST(SynthExperts, PermutedMoeLayerComputesTheParentsFunction) {
  const auto parent_dir = make_parent();
  const auto out = scratch_dir("permuted");
  write_derived_model(parent_dir, out, expert_edit(derivation_kind::permute_experts));
  const auto parent = read_model(parent_dir);
  const auto child = read_model(out);
  const auto top_k = read_json(out / "config.json").at("num_experts_per_tok").get<std::size_t>();
  // The same experts, routers left as they were: the test can tell a broken permutation apart.
  model_tensors unrouted = child;
  for (const std::uint64_t layer : moe_layers)
    for (const char* router : {"mlp.gate.weight", "mlp.gate.e_score_correction_bias"})
      unrouted.at(in_layer(layer, router)) = parent.at(in_layer(layer, router));

  std::mt19937_64 generator(2024);
  for (const std::uint64_t layer : moe_layers) {
    double largest_unrouted_change = 0;
    for (int trial = 0; trial < 8; ++trial) {
      const auto x = random_input(generator);
      const auto expected = moe_block(parent, layer, top_k, x);
      EXPECT_LT(relative_difference(expected, moe_block(child, layer, top_k, x)), 1e-5)
          << "layer " << layer << ", input " << trial;
      largest_unrouted_change =
          std::max(largest_unrouted_change,
                   relative_difference(expected, moe_block(unrouted, layer, top_k, x)));
    }
    EXPECT_GT(largest_unrouted_change, 1e-2) << "layer " << layer;
  }
}

TEST(SynthExperts, DropRemovesAndRenumbersExperts) {
  const auto parent_dir = make_parent();
  const auto out = scratch_dir("dropped");
  write_derived_model(parent_dir, out, expert_edit(derivation_kind::drop_experts, {4, 1}));
  const auto parent = read_model(parent_dir);
  const auto child = read_model(out);
  const std::vector<std::uint64_t> kept{0, 2, 3, 5};
  for (const std::uint64_t layer : moe_layers) expect_experts_follow(parent, child, layer, kept);
  EXPECT_EQ(child.size(), parent.size() - 2 * 3 * std::size(moe_layers));
  const auto config = read_json(out / "config.json");
  EXPECT_EQ(config.at("n_routed_experts"), 4);
  EXPECT_EQ(config.at("num_experts_per_tok"), 2);
  EXPECT_EQ(config.at("lineage_synth").at("kind"), "drop-experts");
  EXPECT_EQ(config.at("lineage_synth").at("dropped_experts"), nlohmann::json({1, 4}));
  EXPECT_EQ(config.at("lineage_synth").at("source_experts"), nlohmann::json(kept));

  // Down to one expert: the router may then choose only one.
  const auto single = scratch_dir("single");
  write_derived_model(parent_dir, single,
                      expert_edit(derivation_kind::drop_experts, {0, 1, 2, 4, 5}));
  const auto single_model = read_model(single);
  for (const std::uint64_t layer : moe_layers)
    expect_experts_follow(parent, single_model, layer, {3});
  EXPECT_EQ(read_json(single / "config.json").at("num_experts_per_tok"), 1);
}

TEST(SynthExperts, ChainedEditsCompose) {
  // permute, then drop, then drift: each step reads what the one before wrote.
  const auto parent_dir = make_parent();
  const auto permuted = scratch_dir("permuted");
  write_derived_model(parent_dir, permuted, expert_edit(derivation_kind::permute_experts));
  const auto dropped = scratch_dir("dropped");
  write_derived_model(permuted, dropped, expert_edit(derivation_kind::drop_experts, {0}));
  const auto drifted = scratch_dir("drifted");
  write_derived_model(dropped, drifted, expert_edit(derivation_kind::drift));
  const auto parent = read_model(parent_dir);
  const auto permutation =
      read_json(permuted / "config.json").at("lineage_synth").at("expert_permutation");
  const auto child = read_model(drifted);
  for (const std::uint64_t layer : moe_layers) {
    const auto order = recorded(permutation.at(std::to_string(layer)));
    for (std::uint64_t j = 0; j + 1 < expert_count; ++j) {  // child j = permuted j + 1
      const auto from = values_of(parent.at(expert_tensor(layer, order[j + 1], "up_proj.weight")));
      const auto to = values_of(child.at(expert_tensor(layer, j, "up_proj.weight")));
      EXPECT_GT(pearson(from, to), 0.95) << "layer " << layer << " expert " << j;
      EXPECT_NE(from, to);
    }
  }
  EXPECT_EQ(read_json(drifted / "config.json").at("n_routed_experts"), expert_count - 1);
}

TEST(SynthExperts, RejectsBadExpertListsAndDenseParents) {
  const auto parent_dir = make_parent();
  const auto out = scratch_dir("rejected");
  using list = std::vector<std::uint64_t>;
  for (const list& bad : {list{}, list{2, 2}, list{1, 6}, list{0, 1, 2, 3, 4, 5}}) {
    EXPECT_THROW(
        write_derived_model(parent_dir, out, expert_edit(derivation_kind::drop_experts, bad)),
        lineage::usage_error);
  }
  try {
    write_derived_model(parent_dir, out, expert_edit(derivation_kind::drop_experts, {7}));
    ADD_FAILURE() << "expert 7 of 6 accepted";
  } catch (const lineage::usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("--experts"), std::string::npos) << e.what();
  }
  EXPECT_THROW(
      write_derived_model(parent_dir, out, expert_edit(derivation_kind::permute_experts, {1})),
      lineage::usage_error);
  auto scaled = expert_edit(derivation_kind::permute_experts);
  scaled.scale = 0.1;
  EXPECT_THROW(write_derived_model(parent_dir, out, scaled), lineage::usage_error);
  auto layered = expert_edit(derivation_kind::drop_experts, {1});
  layered.layers = {1};
  EXPECT_THROW(write_derived_model(parent_dir, out, layered), lineage::usage_error);

  model_shape dense;
  dense.layers = 2;
  dense.hidden = 32;
  dense.intermediate = 48;
  dense.heads = 4;
  dense.kv_heads = 2;
  dense.vocab = 64;
  const auto dense_dir = scratch_dir("dense");
  write_independent_model(dense, 1, dense_dir, {});
  EXPECT_THROW(write_derived_model(dense_dir, out, expert_edit(derivation_kind::permute_experts)),
               lineage::usage_error);
  EXPECT_THROW(write_derived_model(dense_dir, out, expert_edit(derivation_kind::drop_experts, {0})),
               lineage::usage_error);
}

}  // namespace
