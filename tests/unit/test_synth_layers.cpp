// lineage synth: depth edits (drop-layers, duplicate-layers) and their command line.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/error.hpp"
#include "synth/layer_edit.hpp"
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

constexpr const char* layer_suffixes[] = {
    "input_layernorm.weight", "post_attention_layernorm.weight", "self_attn.q_proj.weight",
    "self_attn.k_proj.weight", "self_attn.v_proj.weight",        "self_attn.o_proj.weight",
    "mlp.gate_proj.weight",   "mlp.up_proj.weight",              "mlp.down_proj.weight"};
constexpr const char* global_tensors[] = {"model.embed_tokens.weight", "model.norm.weight",
                                          "lm_head.weight"};

model_shape twelve_layers() {
  model_shape shape;
  shape.layers = 12;
  shape.hidden = 32;
  shape.intermediate = 64;
  shape.heads = 4;
  shape.kv_heads = 2;
  shape.vocab = 64;
  return shape;
}

// Two files, so the child's default (the parent's file count) is sharded too.
std::filesystem::path make_parent(const std::string& label = "parent") {
  const auto dir = scratch_dir(label);
  write_independent_model(twelve_layers(), 33, dir, {lineage::dtype::bf16, 2});
  return dir;
}

derivation edit(derivation_kind kind, std::vector<std::uint64_t> layers) {
  derivation how;
  how.kind = kind;
  how.layers = std::move(layers);
  return how;
}

std::string layer_tensor(std::uint64_t layer, const char* suffix) {
  return "model.layers." + std::to_string(layer) + "." + suffix;
}

// The child has exactly the layers 0..sources.size()-1, each a bit-exact copy (bytes, dtype and
// shape) of parent layer sources[L]; the tensors outside the layers are the parent's.
void expect_layers_copied(const std::filesystem::path& parent_dir,
                          const std::filesystem::path& child_dir,
                          const std::vector<std::uint64_t>& sources) {
  const auto parent = read_model(parent_dir);
  const auto child = read_model(child_dir);
  std::set<std::string> expected_names;
  for (const char* name : global_tensors) {
    expected_names.insert(name);
    ASSERT_TRUE(child.count(name)) << name;
    EXPECT_EQ(child.at(name).bytes, parent.at(name).bytes) << name;
  }
  for (std::size_t layer = 0; layer < sources.size(); ++layer)
    for (const char* suffix : layer_suffixes) {
      const auto name = layer_tensor(layer, suffix);
      const auto from = layer_tensor(sources[layer], suffix);
      expected_names.insert(name);
      ASSERT_TRUE(child.count(name)) << name;
      EXPECT_EQ(child.at(name).dtype, parent.at(from).dtype) << name;
      EXPECT_EQ(child.at(name).shape, parent.at(from).shape) << name;
      EXPECT_EQ(child.at(name).bytes, parent.at(from).bytes) << name << " against " << from;
    }
  std::set<std::string> names;
  for (const auto& [name, tensor] : child) names.insert(name);
  EXPECT_EQ(names, expected_names);
}

TEST(SynthLayers, DropLayersRemovesAndRenumbers) {
  const auto parent_dir = make_parent();
  const auto out = scratch_dir("dropped");
  write_derived_model(parent_dir, out, edit(derivation_kind::drop_layers, {7, 3}));
  expect_layers_copied(parent_dir, out, {0, 1, 2, 4, 5, 6, 8, 9, 10, 11});
  const auto config = read_json(out / "config.json");
  EXPECT_EQ(config.at("num_hidden_layers"), 10);
  EXPECT_EQ(config.at("hidden_size"), 32);
  const auto& provenance = config.at("lineage_synth");
  EXPECT_EQ(provenance.at("kind"), "drop-layers");
  EXPECT_EQ(provenance.at("layers"), nlohmann::json({3, 7}));
  EXPECT_EQ(provenance.at("source_layers"), nlohmann::json({0, 1, 2, 4, 5, 6, 8, 9, 10, 11}));
  EXPECT_FALSE(provenance.contains("scale"));
  EXPECT_EQ(provenance.at("parent").at("seed"), 33);
  EXPECT_TRUE(std::filesystem::exists(out / "model.safetensors.index.json"));
  // The index lists exactly the child's tensors.
  const auto index = read_json(out / "model.safetensors.index.json");
  EXPECT_EQ(index.at("weight_map").size(), read_model(out).size());
  EXPECT_FALSE(index.at("weight_map").contains("model.layers.10.mlp.up_proj.weight"));
}

TEST(SynthLayers, DropTheLastLayerAndAllButOne) {
  const auto parent_dir = make_parent();
  const auto last = scratch_dir("last");
  write_derived_model(parent_dir, last, edit(derivation_kind::drop_layers, {11}));
  expect_layers_copied(parent_dir, last, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  const auto one = scratch_dir("one");
  write_derived_model(parent_dir, one,
                      edit(derivation_kind::drop_layers, {0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11}));
  expect_layers_copied(parent_dir, one, {9});
  EXPECT_EQ(read_json(one / "config.json").at("num_hidden_layers"), 1);
}

TEST(SynthLayers, DuplicateLayersInsertsCopiesRightAfter) {
  const auto parent_dir = make_parent();
  const auto out = scratch_dir("duplicated");
  write_derived_model(parent_dir, out, edit(derivation_kind::duplicate_layers, {2, 5, 11}));
  const std::vector<std::uint64_t> sources{0, 1, 2, 2, 3, 4, 5, 5, 6, 7, 8, 9, 10, 11, 11};
  expect_layers_copied(parent_dir, out, sources);
  const auto config = read_json(out / "config.json");
  EXPECT_EQ(config.at("num_hidden_layers"), 15);
  EXPECT_EQ(config.at("lineage_synth").at("kind"), "duplicate-layers");
  EXPECT_EQ(config.at("lineage_synth").at("source_layers"), nlohmann::json(sources));
}

TEST(SynthLayers, ChainedDriftChangesTheCopiedLayers) {
  // The edit itself never changes values; a drift derivation afterwards does (the fine-tune after
  // pruning or up-scaling), and the duplicated layers then differ from each other.
  const auto parent_dir = make_parent();
  const auto duplicated = scratch_dir("duplicated");
  write_derived_model(parent_dir, duplicated, edit(derivation_kind::duplicate_layers, {4}));
  const auto drifted = scratch_dir("drifted");
  derivation drift;
  drift.kind = derivation_kind::drift;
  drift.scale = 0.3;
  write_derived_model(duplicated, drifted, drift);
  const auto parent = read_model(parent_dir);
  const auto child = read_model(drifted);
  for (const char* suffix : layer_suffixes) {
    const auto original = values_of(parent.at(layer_tensor(4, suffix)));
    const auto first = values_of(child.at(layer_tensor(4, suffix)));
    const auto second = values_of(child.at(layer_tensor(5, suffix)));
    EXPECT_NE(first, second) << suffix;
    EXPECT_GT(pearson(original, first), 0.9) << suffix;
    EXPECT_GT(pearson(original, second), 0.9) << suffix;
    EXPECT_LT(std::abs(pearson(values_of(parent.at(layer_tensor(3, suffix))), first)), 0.5)
        << suffix;
  }
  EXPECT_EQ(read_json(drifted / "config.json").at("num_hidden_layers"), 13);
}

TEST(SynthLayers, OtherOptionsStillApply) {
  const auto parent_dir = make_parent();
  const auto out = scratch_dir("f32-single");
  auto how = edit(derivation_kind::drop_layers, {0});
  how.type = lineage::dtype::f32;
  how.shards = 1;
  how.injections.push_back({"model.layers.10.self_attn.k_proj.weight", 3});  // child's name
  write_derived_model(parent_dir, out, how);
  EXPECT_EQ(model_file_names(out), (std::vector<std::string>{"config.json", "model.safetensors", "tokenizer.json"}));
  const auto parent = read_model(parent_dir);
  const auto child = read_model(out);
  EXPECT_EQ(child.at("model.layers.0.mlp.up_proj.weight").dtype, "F32");
  EXPECT_EQ(values_of(child.at("model.layers.0.mlp.up_proj.weight")),
            values_of(parent.at("model.layers.1.mlp.up_proj.weight")));
  int nonfinite = 0;
  for (const double v : values_of(child.at("model.layers.10.self_attn.k_proj.weight")))
    nonfinite += !std::isfinite(v);
  EXPECT_EQ(nonfinite, 3);
  EXPECT_EQ(read_json(out / "config.json").at("torch_dtype"), "float32");
}

TEST(SynthLayers, RejectsBadLayerLists) {
  const auto parent_dir = make_parent();
  const auto out = scratch_dir("rejected");
  for (const auto kind : {derivation_kind::drop_layers, derivation_kind::duplicate_layers}) {
    EXPECT_THROW(write_derived_model(parent_dir, out, edit(kind, {})), lineage::usage_error);
    EXPECT_THROW(write_derived_model(parent_dir, out, edit(kind, {12})), lineage::usage_error);
    EXPECT_THROW(write_derived_model(parent_dir, out, edit(kind, {3, 40})), lineage::usage_error);
    EXPECT_THROW(write_derived_model(parent_dir, out, edit(kind, {3, 5, 3})),
                 lineage::usage_error);
    auto scaled = edit(kind, {1});
    scaled.scale = 0.1;
    EXPECT_THROW(write_derived_model(parent_dir, out, scaled), lineage::usage_error);
    auto old_name = edit(kind, {1});
    old_name.injections.push_back({"model.layers.99.mlp.up_proj.weight", 1});
    EXPECT_THROW(write_derived_model(parent_dir, out, old_name), lineage::usage_error);
  }
  std::vector<std::uint64_t> all(12);
  for (std::uint64_t i = 0; i < 12; ++i) all[i] = i;
  EXPECT_THROW(write_derived_model(parent_dir, out, edit(derivation_kind::drop_layers, all)),
               lineage::usage_error);
  // Duplicating every layer is fine (depth doubled).
  write_derived_model(parent_dir, out, edit(derivation_kind::duplicate_layers, all));
  EXPECT_EQ(read_json(out / "config.json").at("num_hidden_layers"), 24);
  // --layers belongs to the depth edits only.
  EXPECT_THROW(write_derived_model(parent_dir, scratch_dir("copy"),
                                   edit(derivation_kind::copy, {1})),
               lineage::usage_error);
}

TEST(SynthLayers, LayerNamesAndSources) {
  using lineage::synth::child_layer_sources;
  using lineage::synth::decoder_layer_of;
  using lineage::synth::with_decoder_layer;
  EXPECT_EQ(decoder_layer_of("model.layers.12.mlp.up_proj.weight"), 12u);
  EXPECT_EQ(decoder_layer_of("model.layers.0.input_layernorm.weight"), 0u);
  EXPECT_EQ(decoder_layer_of("model.norm.weight"), std::nullopt);
  EXPECT_EQ(decoder_layer_of("model.layers.x.mlp.weight"), std::nullopt);
  EXPECT_EQ(decoder_layer_of("model.layers.3"), std::nullopt);
  EXPECT_EQ(with_decoder_layer("model.layers.12.mlp.up_proj.weight", 3),
            "model.layers.3.mlp.up_proj.weight");
  EXPECT_EQ(with_decoder_layer("model.layers.3.self_attn.q_proj.weight", 140),
            "model.layers.140.self_attn.q_proj.weight");
  const std::vector<std::uint64_t> two_five{5, 2};
  EXPECT_EQ(child_layer_sources(derivation_kind::drop_layers, 8, two_five),
            (std::vector<std::uint64_t>{0, 1, 3, 4, 6, 7}));
  EXPECT_EQ(child_layer_sources(derivation_kind::duplicate_layers, 8, two_five),
            (std::vector<std::uint64_t>{0, 1, 2, 2, 3, 4, 5, 5, 6, 7}));
}

TEST(SynthLayersCli, DropAndDuplicateFromTheCommandLine) {
  const auto parent = make_parent();
  const auto dropped = scratch_dir("dropped");
  const auto duplicated = scratch_dir("duplicated");
  EXPECT_EQ(run_cli({"synth", "derive", "--from", parent.string(), "-o", dropped.string(),
                     "--kind", "drop-layers", "--layers", "3,7"}),
            0);
  expect_layers_copied(parent, dropped, {0, 1, 2, 4, 5, 6, 8, 9, 10, 11});
  // Repeating the option adds to the list.
  EXPECT_EQ(run_cli({"synth", "derive", "--from", parent.string(), "-o", duplicated.string(),
                     "--kind", "duplicate-layers", "--layers", "1", "--layers", "4"}),
            0);
  expect_layers_copied(parent, duplicated, {0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 8, 9, 10, 11});

  const auto out = scratch_dir("rejected");
  EXPECT_THROW(run_cli({"synth", "derive", "--from", parent.string(), "-o", out.string(),
                        "--kind", "drop-layers"}),
               lineage::usage_error);
  EXPECT_THROW(run_cli({"synth", "derive", "--from", parent.string(), "-o", out.string(),
                        "--kind", "drop-layers", "--layers", "2,2"}),
               lineage::usage_error);
  EXPECT_THROW(run_cli({"synth", "derive", "--from", parent.string(), "-o", out.string(),
                        "--kind", "duplicate-layers", "--layers", "12"}),
               lineage::usage_error);
  EXPECT_THROW(run_cli({"synth", "derive", "--from", parent.string(), "-o", out.string(),
                        "--kind", "noise", "--layers", "1"}),
               lineage::usage_error);
  EXPECT_THROW(run_cli({"synth", "derive", "--from", parent.string(), "-o", out.string(),
                        "--kind", "drop-layers", "--layers", "two"}),
               CLI::ParseError);
}

}  // namespace
