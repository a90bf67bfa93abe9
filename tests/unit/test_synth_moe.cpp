// lineage synth, Mixture-of-Experts models (glm4_moe layout): tensors, config, determinism, depth
// edits that keep the MTP block last, and the command line.
#include <gtest/gtest.h>

#include <set>

#include "core/error.hpp"
#include "synth/synth.hpp"
#include "app/synth_command.hpp"
#include "test_synth_support.hpp"

namespace {

using namespace synth_test;
using lineage::synth::derivation;
using lineage::synth::derivation_kind;
using lineage::synth::model_shape;
using lineage::synth::write_derived_model;
using lineage::synth::write_independent_model;
using shape_vector = std::vector<std::uint64_t>;

model_shape moe_shape() { return moe_test_shape(4, 2); }

std::string layer_tensor(std::uint64_t layer, const std::string& suffix) {
  return "model.layers." + std::to_string(layer) + "." + suffix;
}

const std::vector<std::string> attention_suffixes = {
    "input_layernorm.weight",  "post_attention_layernorm.weight", "self_attn.q_proj.weight",
    "self_attn.k_proj.weight", "self_attn.v_proj.weight",         "self_attn.o_proj.weight",
    "self_attn.q_proj.bias",   "self_attn.k_proj.bias",           "self_attn.v_proj.bias"};
const std::vector<std::string> projections = {"gate_proj.weight", "up_proj.weight",
                                              "down_proj.weight"};
const std::vector<std::string> mtp_suffixes = {"enorm.weight", "hnorm.weight", "eh_proj.weight",
                                               "shared_head.norm.weight"};

// The names a glm4_moe model of `shape` must hold, written out from the specification.
std::set<std::string> expected_names(const model_shape& shape) {
  std::set<std::string> names{"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"};
  for (std::uint64_t layer = 0; layer < shape.layers + (shape.mtp ? 1 : 0); ++layer) {
    for (const auto& suffix : attention_suffixes) names.insert(layer_tensor(layer, suffix));
    if (layer < shape.dense_layers) {
      for (const auto& p : projections) names.insert(layer_tensor(layer, "mlp." + p));
    } else {
      names.insert(layer_tensor(layer, "mlp.gate.weight"));
      names.insert(layer_tensor(layer, "mlp.gate.e_score_correction_bias"));
      for (std::uint64_t e = 0; e < shape.experts; ++e)
        for (const auto& p : projections)
          names.insert(layer_tensor(layer, "mlp.experts." + std::to_string(e) + "." + p));
      if (shape.shared_experts > 0)
        for (const auto& p : projections)
          names.insert(layer_tensor(layer, "mlp.shared_experts." + p));
    }
    if (layer == shape.layers)
      for (const auto& suffix : mtp_suffixes) names.insert(layer_tensor(layer, suffix));
  }
  return names;
}

std::set<std::string> names_of(const std::map<std::string, raw_tensor>& tensors) {
  std::set<std::string> names;
  for (const auto& [name, tensor] : tensors) names.insert(name);
  return names;
}

TEST(SynthMoe, TensorsShapesAndDtypesFollowGlm4Moe) {
  const auto shape = moe_shape();
  const auto dir = scratch_dir("model");
  write_independent_model(shape, 5, dir, {});
  const auto tensors = read_model(dir);
  EXPECT_EQ(names_of(tensors), expected_names(shape));
  EXPECT_EQ(tensors.size(), 3u + 12 + 2 * 26 + 30);

  auto shape_of = [&](std::uint64_t layer, const std::string& suffix) {
    return tensors.at(layer_tensor(layer, suffix)).shape;
  };
  EXPECT_EQ(shape_of(0, "mlp.gate_proj.weight"), (shape_vector{48, 32}));
  EXPECT_EQ(shape_of(0, "mlp.down_proj.weight"), (shape_vector{32, 48}));
  EXPECT_EQ(shape_of(0, "self_attn.q_proj.bias"), (shape_vector{32}));
  EXPECT_EQ(shape_of(0, "self_attn.k_proj.bias"), (shape_vector{16}));  // 2 KV heads of 8
  EXPECT_EQ(shape_of(0, "self_attn.v_proj.bias"), (shape_vector{16}));
  for (const std::uint64_t layer : {1u, 3u}) {
    EXPECT_EQ(shape_of(layer, "mlp.gate.weight"), (shape_vector{4, 32}));
    EXPECT_EQ(shape_of(layer, "mlp.gate.e_score_correction_bias"), (shape_vector{4}));
    EXPECT_EQ(shape_of(layer, "mlp.experts.3.gate_proj.weight"), (shape_vector{16, 32}));
    EXPECT_EQ(shape_of(layer, "mlp.experts.3.up_proj.weight"), (shape_vector{16, 32}));
    EXPECT_EQ(shape_of(layer, "mlp.experts.0.down_proj.weight"), (shape_vector{32, 16}));
    EXPECT_EQ(shape_of(layer, "mlp.shared_experts.up_proj.weight"), (shape_vector{32, 32}));
    EXPECT_EQ(shape_of(layer, "mlp.shared_experts.down_proj.weight"), (shape_vector{32, 32}));
  }
  EXPECT_EQ(shape_of(3, "eh_proj.weight"), (shape_vector{32, 64}));
  EXPECT_EQ(shape_of(3, "enorm.weight"), (shape_vector{32}));
  EXPECT_EQ(shape_of(3, "shared_head.norm.weight"), (shape_vector{32}));

  // The correction bias is F32 as in GLM-4.5's own files; everything else the model's dtype.
  for (const auto& [name, tensor] : tensors) {
    const bool correction = name.ends_with("e_score_correction_bias");
    EXPECT_EQ(tensor.dtype, correction ? "F32" : "BF16") << name;
  }
  // Norms are positive; biases small and centred; router rows like a matrix's.
  for (const double v : values_of(tensors.at(layer_tensor(3, "hnorm.weight")))) EXPECT_GT(v, 0);
  const auto bias = values_of(tensors.at(layer_tensor(2, "self_attn.q_proj.bias")));
  double sum_of_squares = 0;
  for (const double v : bias) sum_of_squares += v * v;
  EXPECT_LT(std::sqrt(sum_of_squares / static_cast<double>(bias.size())), 0.05);
  EXPECT_GT(std::sqrt(sum_of_squares / static_cast<double>(bias.size())), 0.005);
}

TEST(SynthMoe, ConfigSaysWhatGlm45Says) {
  const auto dir = scratch_dir("model");
  write_independent_model(moe_shape(), 5, dir, {lineage::dtype::f16, 1});
  const auto config = read_json(dir / "config.json");
  EXPECT_EQ(config.at("model_type"), "glm4_moe");
  EXPECT_EQ(config.at("architectures"), nlohmann::json({"Glm4MoeForCausalLM"}));
  EXPECT_EQ(config.at("hidden_size"), 32);
  EXPECT_EQ(config.at("intermediate_size"), 48);
  EXPECT_EQ(config.at("moe_intermediate_size"), 16);
  EXPECT_EQ(config.at("n_routed_experts"), 4);
  EXPECT_EQ(config.at("n_shared_experts"), 2);
  EXPECT_EQ(config.at("num_experts_per_tok"), 2);
  EXPECT_EQ(config.at("first_k_dense_replace"), 1);
  EXPECT_EQ(config.at("num_hidden_layers"), 3);  // without the MTP block
  EXPECT_EQ(config.at("num_nextn_predict_layers"), 1);
  EXPECT_EQ(config.at("attention_bias"), true);
  EXPECT_EQ(config.at("head_dim"), 8);
  EXPECT_EQ(config.at("num_attention_heads"), 4);
  EXPECT_EQ(config.at("num_key_value_heads"), 2);
  EXPECT_EQ(config.at("vocab_size"), 64);
  EXPECT_EQ(config.at("tie_word_embeddings"), false);
  EXPECT_EQ(config.at("torch_dtype"), "float16");
  EXPECT_EQ(config.at("lineage_synth").at("kind"), "independent");

  auto one_expert = moe_shape();
  one_expert.experts = 1;
  one_expert.shared_experts = 0;
  one_expert.mtp = false;
  const auto small = scratch_dir("one-expert");
  write_independent_model(one_expert, 5, small, {});
  const auto small_config = read_json(small / "config.json");
  EXPECT_EQ(small_config.at("num_experts_per_tok"), 1);
  EXPECT_EQ(small_config.at("num_nextn_predict_layers"), 0);
  EXPECT_EQ(names_of(read_model(small)), expected_names(one_expert));
}

TEST(SynthMoe, SameSeedSameBytesOtherSeedOtherValues) {
  const auto first = scratch_dir("first");
  const auto again = scratch_dir("again");
  const auto other = scratch_dir("other");
  write_independent_model(moe_shape(), 7, first, {lineage::dtype::bf16, 3});
  write_independent_model(moe_shape(), 7, again, {lineage::dtype::bf16, 3});
  write_independent_model(moe_shape(), 8, other, {lineage::dtype::bf16, 3});
  const auto names = model_file_names(first);
  ASSERT_EQ(names, model_file_names(again));
  for (const auto& name : names)
    EXPECT_EQ(read_bytes(first / name), read_bytes(again / name)) << name;
  const auto a = read_model(first);
  const auto b = read_model(other);
  ASSERT_EQ(names_of(a), names_of(b));
  for (const auto& [name, tensor] : a) EXPECT_NE(tensor.bytes, b.at(name).bytes) << name;
  // Experts of one model are drawn apart from each other too.
  EXPECT_NE(a.at(layer_tensor(1, "mlp.experts.0.up_proj.weight")).bytes,
            a.at(layer_tensor(1, "mlp.experts.1.up_proj.weight")).bytes);
}

TEST(SynthMoe, RejectsMoeSettingsThatDoNotFit) {
  const auto out = scratch_dir("rejected");
  auto dense = moe_shape();
  dense.experts = 0;
  dense.shared_experts = 0;
  dense.dense_layers = 0;
  dense.mtp = true;
  EXPECT_THROW(write_independent_model(dense, 1, out, {}), lineage::usage_error);
  dense.mtp = false;
  dense.shared_experts = 1;
  EXPECT_THROW(write_independent_model(dense, 1, out, {}), lineage::usage_error);
  dense.shared_experts = 0;
  dense.dense_layers = 1;
  EXPECT_THROW(write_independent_model(dense, 1, out, {}), lineage::usage_error);
  auto all_dense = moe_shape();
  all_dense.dense_layers = 3;
  EXPECT_THROW(write_independent_model(all_dense, 1, out, {}), lineage::usage_error);
  auto no_width = moe_shape();
  no_width.expert_intermediate = 0;
  EXPECT_THROW(write_independent_model(no_width, 1, out, {}), lineage::usage_error);
}

// Every child layer L is a bit-exact copy of parent layer sources[L] (MTP block included), and
// the tensors outside the layers are the parent's.
void expect_layers_copied(const std::map<std::string, raw_tensor>& parent,
                          const std::map<std::string, raw_tensor>& child,
                          const std::vector<std::uint64_t>& sources) {
  std::set<std::string> expected;
  for (const auto& [name, tensor] : parent) {
    if (!name.starts_with("model.layers.")) {
      expected.insert(name);
      ASSERT_TRUE(child.count(name)) << name;
      EXPECT_EQ(child.at(name).bytes, tensor.bytes) << name;
      continue;
    }
    const auto after_layer = name.find('.', 13);
    const auto layer = std::stoull(name.substr(13, after_layer - 13));
    for (std::size_t target = 0; target < sources.size(); ++target) {
      if (sources[target] != layer) continue;
      const auto renamed = layer_tensor(target, name.substr(after_layer + 1));
      expected.insert(renamed);
      ASSERT_TRUE(child.count(renamed)) << renamed;
      EXPECT_EQ(child.at(renamed).dtype, tensor.dtype) << renamed;
      EXPECT_EQ(child.at(renamed).bytes, tensor.bytes) << renamed << " against " << name;
    }
  }
  EXPECT_EQ(names_of(child), expected);
}

model_shape four_layers_two_dense() {
  auto shape = moe_shape();
  shape.layers = 4;
  shape.dense_layers = 2;
  return shape;
}

TEST(SynthMoe, DropLayersKeepsTheMtpBlockLast) {
  const auto parent_dir = scratch_dir("parent");
  write_independent_model(four_layers_two_dense(), 3, parent_dir, {lineage::dtype::bf16, 2});
  const auto out = scratch_dir("dropped");
  derivation how;
  how.kind = derivation_kind::drop_layers;
  how.layers = {3, 1};
  write_derived_model(parent_dir, out, how);
  const auto child = read_model(out);
  // Parent layers 0 (dense), 2 (MoE) and the MTP block 4 become 0, 1 and 2.
  expect_layers_copied(read_model(parent_dir), child, {0, 2, 4});
  EXPECT_TRUE(child.count("model.layers.2.eh_proj.weight"));
  EXPECT_TRUE(child.count("model.layers.2.mlp.experts.0.gate_proj.weight"));
  EXPECT_TRUE(child.count("model.layers.0.mlp.gate_proj.weight"));
  const auto config = read_json(out / "config.json");
  EXPECT_EQ(config.at("num_hidden_layers"), 2);
  EXPECT_EQ(config.at("first_k_dense_replace"), 1);  // dense layer 1 was dropped
  EXPECT_EQ(config.at("num_nextn_predict_layers"), 1);
  EXPECT_EQ(config.at("lineage_synth").at("source_layers"), nlohmann::json({0, 2}));

  // Chained: the child is a valid parent, and duplicating its dense layer raises the count.
  const auto deeper = scratch_dir("deeper");
  how.kind = derivation_kind::duplicate_layers;
  how.layers = {0, 1};
  write_derived_model(out, deeper, how);
  expect_layers_copied(child, read_model(deeper), {0, 0, 1, 1, 2});
  const auto deeper_config = read_json(deeper / "config.json");
  EXPECT_EQ(deeper_config.at("num_hidden_layers"), 4);
  EXPECT_EQ(deeper_config.at("first_k_dense_replace"), 2);

  // The MTP block is not one of the --layers a depth edit may name.
  how.kind = derivation_kind::drop_layers;
  how.layers = {4};
  EXPECT_THROW(write_derived_model(parent_dir, scratch_dir("mtp"), how), lineage::usage_error);
}

TEST(SynthMoe, ValueAndFormatKindsWorkOnMoeParents) {
  const auto parent_dir = scratch_dir("parent");
  write_independent_model(moe_shape(), 3, parent_dir, {});
  const auto parent = read_model(parent_dir);
  derivation drift;
  drift.kind = derivation_kind::drift;
  const auto drifted_dir = scratch_dir("drifted");
  write_derived_model(parent_dir, drifted_dir, drift);
  const auto drifted = read_model(drifted_dir);
  ASSERT_EQ(names_of(drifted), names_of(parent));
  for (const auto& [name, tensor] : parent) {
    EXPECT_EQ(drifted.at(name).dtype, tensor.dtype) << name;
    EXPECT_GT(pearson(values_of(tensor), values_of(drifted.at(name))), 0.95) << name;
    EXPECT_NE(drifted.at(name).bytes, tensor.bytes) << name;
  }
  derivation to_f32;
  to_f32.kind = derivation_kind::dtype_change;
  to_f32.type = lineage::dtype::f32;
  to_f32.shards = 2;
  const auto wide_dir = scratch_dir("f32");
  write_derived_model(parent_dir, wide_dir, to_f32);
  const auto wide = read_model(wide_dir);
  for (const auto& [name, tensor] : parent) {
    EXPECT_EQ(wide.at(name).dtype, "F32") << name;
    EXPECT_EQ(values_of(wide.at(name)), values_of(tensor)) << name;
  }
}

TEST(SynthMoeCli, IndependentAndExpertKindsFromTheCommandLine) {
  const auto parent = scratch_dir("parent");
  const std::vector<std::string> independent = {"synth",
                                                "independent",
                                                "--seed",
                                                "4",
                                                "-o",
                                                parent.string(),
                                                "--layers",
                                                "3",
                                                "--hidden",
                                                "32",
                                                "--intermediate",
                                                "48",
                                                "--heads",
                                                "4",
                                                "--kv-heads",
                                                "2",
                                                "--vocab",
                                                "64",
                                                "--experts",
                                                "5",
                                                "--expert-intermediate",
                                                "16",
                                                "--shared-experts",
                                                "1",
                                                "--dense-layers",
                                                "1",
                                                "--mtp"};
  EXPECT_EQ(run_cli(independent), 0);
  auto shape = moe_shape();
  shape.experts = 5;
  shape.shared_experts = 1;
  EXPECT_EQ(names_of(read_model(parent)), expected_names(shape));
  const auto config = read_json(parent / "config.json");
  EXPECT_EQ(config.at("n_routed_experts"), 5);
  EXPECT_EQ(config.at("moe_intermediate_size"), 16);
  EXPECT_EQ(config.at("n_shared_experts"), 1);
  EXPECT_EQ(config.at("first_k_dense_replace"), 1);
  EXPECT_EQ(config.at("num_nextn_predict_layers"), 1);

  const auto permuted = scratch_dir("permuted");
  EXPECT_EQ(run_cli({"synth", "derive", "--from", parent.string(), "-o", permuted.string(),
                     "--kind", "permute-experts", "--seed", "6"}),
            0);
  const auto provenance = read_json(permuted / "config.json").at("lineage_synth");
  EXPECT_EQ(provenance.at("kind"), "permute-experts");
  EXPECT_EQ(provenance.at("seed"), 6);
  EXPECT_EQ(provenance.at("expert_permutation").size(), 3u);  // layers 1, 2 and MTP 3

  const auto dropped = scratch_dir("dropped");
  EXPECT_EQ(run_cli({"synth", "derive", "--from", permuted.string(), "-o", dropped.string(),
                     "--kind", "drop-experts", "--experts", "4,0"}),
            0);
  const auto dropped_config = read_json(dropped / "config.json");
  EXPECT_EQ(dropped_config.at("n_routed_experts"), 3);
  EXPECT_EQ(dropped_config.at("lineage_synth").at("dropped_experts"), nlohmann::json({0, 4}));
  EXPECT_EQ(dropped_config.at("lineage_synth").at("parent").at("kind"), "permute-experts");
  EXPECT_EQ(read_model(dropped).at("model.layers.3.mlp.gate.weight").shape, (shape_vector{3, 32}));

  const auto out = scratch_dir("rejected");
  EXPECT_THROW(run_cli({"synth", "derive", "--from", parent.string(), "-o", out.string(), "--kind",
                        "drop-experts"}),
               lineage::usage_error);
  EXPECT_THROW(run_cli({"synth", "derive", "--from", parent.string(), "-o", out.string(), "--kind",
                        "drop-experts", "--experts", "1,1"}),
               lineage::usage_error);
  EXPECT_THROW(run_cli({"synth", "derive", "--from", parent.string(), "-o", out.string(), "--kind",
                        "copy", "--experts", "1"}),
               lineage::usage_error);
  EXPECT_THROW(run_cli({"synth", "derive", "--from", parent.string(), "-o", out.string(), "--kind",
                        "drop-experts", "--experts", "one"}),
               CLI::ParseError);
  EXPECT_THROW(run_cli({"synth", "independent", "--seed", "1", "-o", out.string(), "--mtp"}),
               lineage::usage_error);
}

}  // namespace
