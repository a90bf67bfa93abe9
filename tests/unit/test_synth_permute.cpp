// lineage synth, function-preserving permutations (permute-neurons, permute-heads,
// permute-hidden): every moved element is a bit-exact copy of the parent element the recorded
// permutation names, on dense Llama and glm4_moe parents (experts, shared expert, MTP block).
// That the function survives is checked by the forward pass in test_synth_function.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <numeric>

#include "core/error.hpp"
#include "synth/synth.hpp"
#include "test_synth_support.hpp"

namespace {

using namespace synth_test;
using lineage::synth::derivation;
using lineage::synth::derivation_kind;
using lineage::synth::write_derived_model;
using lineage::synth::write_independent_model;
using order = std::vector<std::uint64_t>;

std::filesystem::path make_dense(const std::string& label = "dense") {
  const auto dir = scratch_dir(label);
  write_independent_model(dense_test_shape(), 5, dir, {lineage::dtype::bf16, 2});
  return dir;
}

std::filesystem::path make_moe(const std::string& label = "moe") {
  const auto dir = scratch_dir(label);
  write_independent_model(moe_test_shape(4, 1), 6, dir, {lineage::dtype::bf16, 1});
  return dir;
}

std::filesystem::path derive(const std::filesystem::path& parent, derivation_kind kind,
                             std::uint64_t seed, const std::string& label) {
  const auto out = scratch_dir(label);
  derivation how;
  how.kind = kind;
  how.seed = seed;
  write_derived_model(parent, out, how);
  return out;
}

nlohmann::json provenance_of(const std::filesystem::path& dir) {
  return read_json(dir / "config.json").at("lineage_synth");
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::size_t width_of(const raw_tensor& tensor) {
  return tensor.dtype == "F32" ? 4 : tensor.dtype == "F64" ? 8 : 2;
}

// child[r][c] == parent[rows[r]][columns[c]] bit for bit (an empty order: in place); vectors are
// one row per element. Shorter orders select (prune-hidden): the child is that much smaller.
void expect_moved(const raw_tensor& parent, const raw_tensor& child, const order& rows,
                  const order& columns, const std::string& name) {
  ASSERT_EQ(child.dtype, parent.dtype) << name;
  const std::size_t width = width_of(parent);
  const std::uint64_t parent_columns = parent.shape.size() == 2 ? parent.shape[1] : 1;
  const std::uint64_t row_count = rows.empty() ? parent.shape.at(0) : rows.size();
  const std::uint64_t column_count = columns.empty() ? parent_columns : columns.size();
  auto shape = parent.shape;
  shape[0] = row_count;
  if (shape.size() == 2) shape[1] = column_count;
  ASSERT_EQ(child.shape, shape) << name;
  std::uint64_t wrong = 0;
  for (std::uint64_t r = 0; r < row_count; ++r)
    for (std::uint64_t c = 0; c < column_count; ++c) {
      const std::uint64_t from_r = rows.empty() ? r : rows[r];
      const std::uint64_t from_c = columns.empty() ? c : columns[c];
      if (child.bytes.compare((r * column_count + c) * width, width, parent.bytes,
                              (from_r * parent_columns + from_c) * width, width) != 0)
        ++wrong;
    }
  EXPECT_EQ(wrong, 0u) << name << ": elements not where the permutation puts them";
}

void expect_permutation(const order& drawn, std::size_t size, const std::string& what) {
  order sorted = drawn, identity(size);
  std::sort(sorted.begin(), sorted.end());
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_EQ(sorted, identity) << what << " is not a permutation of 0.." << size - 1;
  if (size > 1) {
    EXPECT_NE(drawn, identity) << what << " was left in place";
  }
}

order expand(const order& blocks, std::uint64_t block) {
  order elements;
  for (const auto b : blocks)
    for (std::uint64_t i = 0; i < block; ++i) elements.push_back(b * block + i);
  return elements;
}

order recorded(const nlohmann::json& list) { return list.get<order>(); }

// --- permute-neurons ----------------------------------------------------------------------------

// The MLPs of a model, found from the names independently of synth: every ".gate_proj.weight".
std::vector<std::string> mlps_of(const model_tensors& model) {
  std::vector<std::string> mlps;
  for (const auto& [name, tensor] : model)
    if (ends_with(name, ".gate_proj.weight"))
      mlps.push_back(name.substr(0, name.size() - std::string(".gate_proj.weight").size()));
  return mlps;
}

void expect_neurons_permuted(const std::filesystem::path& parent_dir,
                             const std::filesystem::path& child_dir) {
  const auto parent = read_model(parent_dir);
  const auto child = read_model(child_dir);
  const auto permutation = provenance_of(child_dir).at("neuron_permutation");
  const auto mlps = mlps_of(parent);
  ASSERT_EQ(permutation.size(), mlps.size());
  for (const auto& mlp : mlps) {
    const auto neurons = recorded(permutation.at(mlp));
    expect_permutation(neurons, parent.at(mlp + ".gate_proj.weight").shape[0], mlp);
    expect_moved(parent.at(mlp + ".gate_proj.weight"), child.at(mlp + ".gate_proj.weight"), neurons,
                 {}, mlp + ".gate_proj");
    expect_moved(parent.at(mlp + ".up_proj.weight"), child.at(mlp + ".up_proj.weight"), neurons, {},
                 mlp + ".up_proj");
    expect_moved(parent.at(mlp + ".down_proj.weight"), child.at(mlp + ".down_proj.weight"), {},
                 neurons, mlp + ".down_proj");
  }
  ASSERT_EQ(child.size(), parent.size());
  for (const auto& [name, tensor] : parent)
    if (!ends_with(name, "gate_proj.weight") && !ends_with(name, "up_proj.weight") &&
        !ends_with(name, "down_proj.weight")) {
      EXPECT_EQ(child.at(name).bytes, tensor.bytes) << name << " should be untouched";
    }
}

TEST(SynthPermute, NeuronsMoveGateUpRowsAndDownColumnsOfEveryDenseMlp) {
  const auto parent = make_dense();
  const auto child = derive(parent, derivation_kind::permute_neurons, 4, "child");
  expect_neurons_permuted(parent, child);
  const auto provenance = provenance_of(child);
  EXPECT_EQ(provenance.at("kind"), "permute-neurons");
  EXPECT_EQ(provenance.at("seed"), 4);
  EXPECT_TRUE(provenance.at("neuron_permutation").contains("model.layers.1.mlp"));
  // Each MLP draws its own order.
  EXPECT_NE(provenance.at("neuron_permutation").at("model.layers.0.mlp"),
            provenance.at("neuron_permutation").at("model.layers.1.mlp"));
}

TEST(SynthPermute, NeuronsOfEveryRoutedAndSharedExpertAndTheMtpBlockMoveSeparately) {
  const auto parent = make_moe();
  const auto child = derive(parent, derivation_kind::permute_neurons, 4, "child");
  expect_neurons_permuted(parent, child);
  const auto permutation = provenance_of(child).at("neuron_permutation");
  // Layer 0 dense; 1, 2 and the MTP block 3 with 4 experts and a shared expert each.
  EXPECT_EQ(permutation.size(), 1u + 3u * 5u);
  for (const char* mlp : {"model.layers.0.mlp", "model.layers.2.mlp.experts.3",
                          "model.layers.3.mlp.experts.0", "model.layers.3.mlp.shared_experts"})
    EXPECT_TRUE(permutation.contains(mlp)) << mlp;
  EXPECT_EQ(permutation.at("model.layers.0.mlp").size(), 48u);
  EXPECT_EQ(permutation.at("model.layers.1.mlp.experts.0").size(), 16u);
  EXPECT_NE(permutation.at("model.layers.1.mlp.experts.0"),
            permutation.at("model.layers.1.mlp.experts.1"));
}

// --- permute-heads ------------------------------------------------------------------------------

void expect_heads_permuted(const std::filesystem::path& parent_dir,
                           const std::filesystem::path& child_dir, std::uint64_t layers) {
  const auto parent = read_model(parent_dir);
  const auto child = read_model(child_dir);
  const auto config = read_json(parent_dir / "config.json");
  const auto heads = config.at("num_attention_heads").get<std::uint64_t>();
  const auto kv_heads = config.at("num_key_value_heads").get<std::uint64_t>();
  const std::uint64_t group = heads / kv_heads;
  const auto permutation = provenance_of(child_dir).at("head_permutation");
  ASSERT_EQ(permutation.size(), layers);
  for (std::uint64_t layer = 0; layer < layers; ++layer) {
    const std::string prefix = "model.layers." + std::to_string(layer) + ".self_attn.";
    const auto& drawn = permutation.at(std::to_string(layer));
    const auto kv = recorded(drawn.at("kv"));
    const auto q = recorded(drawn.at("q"));
    order sorted_kv = kv, sorted_q = q;
    std::sort(sorted_kv.begin(), sorted_kv.end());
    std::sort(sorted_q.begin(), sorted_q.end());
    order kv_identity(kv_heads), q_identity(heads);
    std::iota(kv_identity.begin(), kv_identity.end(), 0);
    std::iota(q_identity.begin(), q_identity.end(), 0);
    EXPECT_EQ(sorted_kv, kv_identity) << "layer " << layer;
    EXPECT_EQ(sorted_q, q_identity) << "layer " << layer;
    EXPECT_NE(q, q_identity) << "layer " << layer << " left in place";
    // GQA: child query head j reads child KV head j / G, which is parent KV head kv[j / G]; so
    // its parent query head must belong to that KV head.
    for (std::uint64_t j = 0; j < heads; ++j)
      EXPECT_EQ(q[j] / group, kv[j / group]) << "layer " << layer << " query head " << j;
    const std::uint64_t head_dim = parent.at(prefix + "q_proj.weight").shape[0] / heads;
    const auto q_rows = expand(q, head_dim);
    const auto kv_rows = expand(kv, head_dim);
    expect_moved(parent.at(prefix + "q_proj.weight"), child.at(prefix + "q_proj.weight"), q_rows,
                 {}, prefix + "q_proj");
    expect_moved(parent.at(prefix + "o_proj.weight"), child.at(prefix + "o_proj.weight"), {},
                 q_rows, prefix + "o_proj");
    for (const char* kv_tensor : {"k_proj.weight", "v_proj.weight"})
      expect_moved(parent.at(prefix + kv_tensor), child.at(prefix + kv_tensor), kv_rows, {},
                   prefix + kv_tensor);
    if (!parent.count(prefix + "q_proj.bias")) continue;
    expect_moved(parent.at(prefix + "q_proj.bias"), child.at(prefix + "q_proj.bias"), q_rows, {},
                 prefix + "q_proj.bias");
    for (const char* kv_bias : {"k_proj.bias", "v_proj.bias"})
      expect_moved(parent.at(prefix + kv_bias), child.at(prefix + kv_bias), kv_rows, {},
                   prefix + kv_bias);
  }
  for (const auto& [name, tensor] : parent)
    if (name.find("self_attn.") == std::string::npos) {
      EXPECT_EQ(child.at(name).bytes, tensor.bytes) << name << " should be untouched";
    }
}

TEST(SynthPermute, HeadsMoveKvHeadsWithTheirQueryGroupsAndQueryHeadsWithinGroups) {
  const auto parent = make_dense();
  const auto child = derive(parent, derivation_kind::permute_heads, 8, "child");
  expect_heads_permuted(parent, child, 2);
  EXPECT_EQ(provenance_of(child).at("kind"), "permute-heads");
}

TEST(SynthPermute, HeadsOfAMoeModelMoveTheirBiasesAndIncludeTheMtpBlock) {
  const auto parent = make_moe();
  const auto child = derive(parent, derivation_kind::permute_heads, 8, "child");
  expect_heads_permuted(parent, child, 4);  // layers 0-2 and the MTP block 3
}

// --- permute-hidden -----------------------------------------------------------------------------

struct hidden_axes {
  bool rows = false, columns = false, halves = false;
};

// Where the hidden dimension runs, from the model definitions.
hidden_axes expected_axes(const std::string& name) {
  for (const char* norm : {"layernorm.weight", "model.norm.weight", "enorm.weight", "hnorm.weight",
                           "shared_head.norm.weight"})
    if (ends_with(name, norm)) return {true, false, false};
  for (const char* writer : {"o_proj.weight", "down_proj.weight"})
    if (ends_with(name, writer)) return {true, false, false};
  if (ends_with(name, "eh_proj.weight")) return {true, false, true};
  for (const char* reader :
       {"embed_tokens.weight", "lm_head.weight", "q_proj.weight", "k_proj.weight", "v_proj.weight",
        "gate_proj.weight", "up_proj.weight", "mlp.gate.weight"})
    if (ends_with(name, reader)) return {false, true, false};
  return {};  // biases, the router's correction bias
}

// Every residual axis of the child holds the parent's dimensions `kept` (a permutation, or a
// sorted subset when pruned), recorded in the provenance under `key`.
void expect_hidden_selected(const std::filesystem::path& parent_dir, const std::filesystem::path& child_dir,
                            const char* key) {
  const auto parent = read_model(parent_dir);
  const auto child = read_model(child_dir);
  const auto kept = recorded(provenance_of(child_dir).at(key));
  const std::uint64_t hidden = read_json(parent_dir / "config.json").at("hidden_size");
  order both_halves = kept;
  for (const auto j : kept) both_halves.push_back(hidden + j);
  ASSERT_EQ(child.size(), parent.size());
  for (const auto& [name, tensor] : parent) {
    const auto axes = expected_axes(name);
    expect_moved(tensor, child.at(name), axes.rows ? kept : order{},
                 axes.halves    ? both_halves
                 : axes.columns ? kept
                                : order{},
                 name);
  }
}

void expect_hidden_permuted(const std::filesystem::path& parent_dir,
                            const std::filesystem::path& child_dir) {
  const std::uint64_t hidden = read_json(parent_dir / "config.json").at("hidden_size");
  expect_permutation(recorded(provenance_of(child_dir).at("hidden_permutation")), hidden, "hidden_permutation");
  expect_hidden_selected(parent_dir, child_dir, "hidden_permutation");
}

TEST(SynthPermute, HiddenPermutesEveryResidualAxisOfADenseModel) {
  const auto parent = make_dense();
  const auto child = derive(parent, derivation_kind::permute_hidden, 2, "child");
  expect_hidden_permuted(parent, child);
}

TEST(SynthPermute, HiddenPermutesExpertsRoutersAndTheMtpProjectionOfAMoeModel) {
  const auto parent = make_moe();
  const auto child = derive(parent, derivation_kind::permute_hidden, 2, "child");
  expect_hidden_permuted(parent, child);
  EXPECT_EQ(provenance_of(child).at("hidden_permutation").size(), 32u);
}

// --- flip-hidden -------------------------------------------------------------------------------

// The child differs from the parent exactly in the sign bit of the elements in flipped rows or
// columns (a row and a column both flipped cancel); norms never change.
void expect_signs_flipped(const std::filesystem::path& parent_dir, const std::filesystem::path& child_dir) {
  const auto parent = read_model(parent_dir);
  const auto child = read_model(child_dir);
  const auto flipped = recorded(provenance_of(child_dir).at("hidden_sign_flips"));
  const std::uint64_t hidden = read_json(parent_dir / "config.json").at("hidden_size");
  EXPECT_EQ(flipped.size(), hidden / 2);
  std::vector<bool> negated(2 * hidden, false);
  for (const auto j : flipped) negated[j] = negated[hidden + j] = true;
  std::size_t changed_tensors = 0;
  for (const auto& [name, tensor] : parent) {
    const auto& out = child.at(name);
    ASSERT_EQ(out.shape, tensor.shape) << name;
    const auto axes = expected_axes(name);
    const bool norm = axes.rows && tensor.shape.size() == 1;
    const std::size_t width = width_of(tensor);
    const std::uint64_t columns = tensor.shape.size() == 2 ? tensor.shape[1] : 1;
    std::uint64_t wrong = 0;
    for (std::uint64_t e = 0; e < tensor.bytes.size() / width; ++e) {
      const std::uint64_t r = e / columns, c = e % columns;
      const bool row_flip = !norm && axes.rows && negated[r];
      const bool column_flip = (axes.columns || axes.halves) && negated[c];
      const auto top = static_cast<unsigned char>(tensor.bytes[e * width + width - 1]);
      const auto expected = static_cast<unsigned char>(top ^ ((row_flip != column_flip) ? 0x80 : 0));
      wrong += static_cast<unsigned char>(out.bytes[e * width + width - 1]) != expected ||
               out.bytes.compare(e * width, width - 1, tensor.bytes, e * width, width - 1) != 0;
    }
    EXPECT_EQ(wrong, 0u) << name;
    changed_tensors += out.bytes != tensor.bytes;
  }
  EXPECT_GT(changed_tensors, 0u);
}

TEST(SynthFlip, HiddenSignFlipsNegateReadersColumnsAndWritersRowsNotNorms) {
  const auto dense = make_dense("flip-dense");
  expect_signs_flipped(dense, derive(dense, derivation_kind::flip_hidden, 3, "flipped"));
  const auto moe = make_moe("flip-moe");
  expect_signs_flipped(moe, derive(moe, derivation_kind::flip_hidden, 3, "flipped-moe"));
}

// --- prune-hidden ------------------------------------------------------------------------------

TEST(SynthPrune, HiddenPruningKeepsASortedSubsetOfEveryResidualAxis) {
  for (const bool moe : {false, true}) {
    const auto parent = moe ? make_moe("prune-moe") : make_dense("prune-dense");
    auto how = derivation_of(derivation_kind::prune_hidden, 4);
    how.scale = 0.25;
    const auto child = synth_test::derive(parent, how, "pruned");
    const std::uint64_t hidden = read_json(parent / "config.json").at("hidden_size");
    const auto kept = recorded(provenance_of(child).at("hidden_pruning"));
    EXPECT_EQ(kept.size(), hidden - hidden / 4);
    EXPECT_TRUE(std::is_sorted(kept.begin(), kept.end()));
    EXPECT_EQ(std::adjacent_find(kept.begin(), kept.end()), kept.end());
    EXPECT_LT(kept.back(), hidden);
    const auto config = read_json(child / "config.json");
    EXPECT_EQ(config.at("hidden_size"), kept.size());
    const auto parent_config = read_json(parent / "config.json");
    const std::uint64_t heads = parent_config.at("num_attention_heads");
    EXPECT_EQ(config.at("head_dim"), parent_config.value("head_dim", hidden / heads));
    expect_hidden_selected(parent, child, "hidden_pruning");
  }
}

TEST(SynthPrune, RejectsAFractionThatPrunesNothingOrEverything) {
  const auto parent = make_dense("prune-bad");
  for (const double fraction : {0.0001, 1.0}) {
    auto how = derivation_of(derivation_kind::prune_hidden, 4);
    how.scale = fraction;
    EXPECT_THROW(synth_test::derive(parent, how, "bad"), lineage::usage_error) << fraction;
  }
}

// --- seeds, chains, options ---------------------------------------------------------------------

TEST(SynthPermute, PermutationsFollowTheSeed) {
  const auto parent = make_moe();
  const std::pair<derivation_kind, const char*> kinds[] = {
      {derivation_kind::permute_neurons, "neuron_permutation"},
      {derivation_kind::permute_heads, "head_permutation"},
      {derivation_kind::permute_hidden, "hidden_permutation"}};
  for (const auto& [kind, key] : kinds) {
    const auto first = provenance_of(derive(parent, kind, 3, "first")).at(key);
    EXPECT_EQ(provenance_of(derive(parent, kind, 3, "again")).at(key), first) << key;
    EXPECT_NE(provenance_of(derive(parent, kind, 4, "other")).at(key), first) << key;
  }
}

TEST(SynthPermute, ChainsWithOtherKinds) {
  // permute-neurons, then drift: the drifted child still follows the recorded neuron order.
  const auto parent_dir = make_moe();
  const auto permuted = derive(parent_dir, derivation_kind::permute_neurons, 5, "permuted");
  const auto drifted = derive(permuted, derivation_kind::drift, 6, "drifted");
  const auto provenance = provenance_of(drifted);
  EXPECT_EQ(provenance.at("kind"), "drift");
  EXPECT_EQ(provenance.at("parent").at("kind"), "permute-neurons");
  const auto parent = read_model(parent_dir);
  const auto child = read_model(drifted);
  const std::string mlp = "model.layers.2.mlp.experts.1";
  const auto neurons = recorded(provenance.at("parent").at("neuron_permutation").at(mlp));
  const auto& from = parent.at(mlp + ".up_proj.weight");
  const auto to = values_of(child.at(mlp + ".up_proj.weight"));
  const auto original = values_of(from);
  const std::size_t columns = from.shape[1];
  std::vector<double> expected;
  for (const auto r : neurons)
    expected.insert(expected.end(), original.begin() + static_cast<std::ptrdiff_t>(r * columns),
                    original.begin() + static_cast<std::ptrdiff_t>((r + 1) * columns));
  EXPECT_GT(pearson(expected, to), 0.95);
  EXPECT_LT(pearson(original, to), 0.5);

  // permute-experts, then permute-hidden, then drop-layers: each step reads what the last wrote.
  const auto experts = derive(parent_dir, derivation_kind::permute_experts, 1, "experts");
  const auto hidden = derive(experts, derivation_kind::permute_hidden, 2, "hidden");
  expect_hidden_permuted(experts, hidden);
  derivation drop;
  drop.kind = derivation_kind::drop_layers;
  drop.layers = {1};
  const auto dropped = scratch_dir("dropped");
  write_derived_model(hidden, dropped, drop);
  EXPECT_EQ(read_json(dropped / "config.json").at("num_hidden_layers"), 2);
}

TEST(SynthPermute, RejectsOptionsThatDoNotApplyAndHeadsThatDoNotDivide) {
  const auto parent = make_dense();
  const auto out = scratch_dir("rejected");
  for (const auto kind : {derivation_kind::permute_neurons, derivation_kind::permute_heads,
                          derivation_kind::permute_hidden}) {
    derivation how;
    how.kind = kind;
    auto with = [&](auto change) {
      derivation changed = how;
      change(changed);
      return changed;
    };
    EXPECT_THROW(write_derived_model(parent, out, with([](derivation& d) { d.scale = 0.1; })),
                 lineage::usage_error);
    EXPECT_THROW(write_derived_model(parent, out, with([](derivation& d) { d.tokens = 4; })),
                 lineage::usage_error);
    EXPECT_THROW(write_derived_model(parent, out, with([](derivation& d) { d.experts = {1}; })),
                 lineage::usage_error);
    EXPECT_THROW(write_derived_model(parent, out, with([](derivation& d) { d.expert_count = 2; })),
                 lineage::usage_error);
    EXPECT_THROW(write_derived_model(parent, out, with([](derivation& d) { d.noise = 0.0; })),
                 lineage::usage_error);
    EXPECT_THROW(write_derived_model(parent, out, with([](derivation& d) { d.layers = {0}; })),
                 lineage::usage_error);
  }
  // Heads that do not divide: 32 q_proj rows into 3 heads; 8 heads onto 3 KV heads; a
  // head_dim that disagrees with the rows.
  const std::pair<const char*, int> broken[] = {
      {"num_attention_heads", 3}, {"num_key_value_heads", 3}, {"head_dim", 8}};
  for (const auto& [key, value] : broken) {
    auto config = read_json(parent / "config.json");
    const auto kept = config;
    config[key] = value;
    { std::ofstream(parent / "config.json") << config.dump(2); }
    derivation how;
    how.kind = derivation_kind::permute_heads;
    try {
      write_derived_model(parent, out, how);
      ADD_FAILURE() << key << " " << value << " accepted";
    } catch (const lineage::usage_error& e) {
      EXPECT_NE(std::string(e.what()).find("--kind permute-heads"), std::string::npos) << e.what();
    }
    std::ofstream(parent / "config.json") << kept.dump(2);
  }
  // One head: nothing to permute.
  auto one_head = dense_test_shape();
  one_head.heads = 1;
  one_head.kv_heads = 1;
  const auto single = scratch_dir("single");
  write_independent_model(one_head, 1, single, {});
  derivation how;
  how.kind = derivation_kind::permute_heads;
  EXPECT_THROW(write_derived_model(single, out, how), lineage::usage_error);
}

TEST(SynthCli, PermuteKindsRunFromTheCommandLine) {
  const auto parent = make_dense();
  for (const char* kind : {"permute-neurons", "permute-heads", "permute-hidden"}) {
    const auto child = scratch_dir(kind);
    EXPECT_EQ(run_cli({"synth", "derive", "--from", parent.string(), "-o", child.string(), "--kind",
                       kind, "--seed", "11"}),
              0);
    const auto provenance = provenance_of(child);
    EXPECT_EQ(provenance.at("kind"), kind);
    EXPECT_EQ(provenance.at("seed"), 11);
  }
  EXPECT_THROW(run_cli({"synth", "derive", "--from", parent.string(), "-o",
                        scratch_dir("bad").string(), "--kind", "permute-heads", "--tokens", "3"}),
               lineage::usage_error);
}

}  // namespace
