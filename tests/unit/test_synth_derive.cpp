// lineage synth, derived models and the command line.
#include <gtest/gtest.h>

#include <cmath>

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

model_shape small_shape() {
  model_shape shape;
  shape.layers = 2;
  shape.hidden = 128;
  shape.intermediate = 256;
  shape.heads = 4;
  shape.kv_heads = 2;
  shape.vocab = 256;
  return shape;
}

// A BF16 parent in two files, in the running test's own directory (ctest runs tests in parallel).
std::filesystem::path make_parent() {
  const auto dir = scratch_dir("parent");
  write_independent_model(small_shape(), 21, dir, {lineage::dtype::bf16, 2});
  return dir;
}

derivation kind(derivation_kind k) {
  derivation how;
  how.kind = k;
  return how;
}

TEST(SynthDerive, CopyIsBitIdenticalAndRecordsProvenance) {
  const auto parent_dir = make_parent();
  const auto out = scratch_dir("copy");
  write_derived_model(parent_dir, out, kind(derivation_kind::copy));
  const auto a = read_model(parent_dir);
  const auto b = read_model(out);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) {
    EXPECT_EQ(tensor.bytes, b.at(name).bytes) << name;
    EXPECT_EQ(tensor.dtype, b.at(name).dtype) << name;
  }
  EXPECT_TRUE(std::filesystem::exists(out / "model.safetensors.index.json"));  // parent's 2 files
  const auto config = read_json(out / "config.json");
  EXPECT_EQ(config.at("lineage_synth").at("kind"), "copy");
  EXPECT_EQ(config.at("lineage_synth").at("parent").at("seed"), 21);
  EXPECT_EQ(config.at("hidden_size"), 128);
}

TEST(SynthDerive, NoiseKeepsPearsonAndGivesTheRelativeL2) {
  const auto parent_dir = make_parent();
  const auto out = scratch_dir("noise");
  write_derived_model(parent_dir, out, kind(derivation_kind::noise));
  const auto a = read_model(parent_dir);
  const auto b = read_model(out);
  for (const auto& [name, tensor] : a) {
    if (tensor.shape.size() != 2) continue;
    const auto x = values_of(tensor);
    const auto y = values_of(b.at(name));
    EXPECT_GT(pearson(x, y), 0.99) << name;
    // BF16 rounding adds about 2^-9 / sqrt(3) relative to the 0.01 of noise.
    EXPECT_NEAR(relative_l2(x, y), 0.01, 0.003) << name;
  }
  EXPECT_EQ(read_json(out / "config.json").at("lineage_synth").at("scale"), 0.01);
}

TEST(SynthDerive, DriftKeepsPearsonHighAndChangesEveryTensor) {
  const auto parent_dir = make_parent();
  const auto out = scratch_dir("drift");
  write_derived_model(parent_dir, out, kind(derivation_kind::drift));
  const auto a = read_model(parent_dir);
  const auto b = read_model(out);
  for (const auto& [name, tensor] : a) {
    const auto x = values_of(tensor);
    const auto y = values_of(b.at(name));
    EXPECT_GT(pearson(x, y), 0.9) << name;
    EXPECT_NE(tensor.bytes, b.at(name).bytes) << name;
    if (tensor.shape.size() == 2) {
      EXPECT_NEAR(relative_l2(x, y), 0.0515, 0.01) << name;
    } else {
      EXPECT_GT(pearson(x, y), 0.99) << name;  // a fine-tune keeps the norm profile
    }
  }
}

TEST(SynthDerive, DifferentDeriveSeedsGiveDifferentNoise) {
  const auto parent_dir = make_parent();
  const auto first = scratch_dir("first");
  const auto second = scratch_dir("second");
  auto how = kind(derivation_kind::noise);
  write_derived_model(parent_dir, first, how);
  how.seed = 2;
  write_derived_model(parent_dir, second, how);
  const auto a = read_model(first);
  const auto b = read_model(second);
  EXPECT_NE(a.at("model.norm.weight").bytes, b.at("model.norm.weight").bytes);
}

TEST(SynthDerive, DtypeBf16ToF32IsExact) {
  const auto parent_dir = make_parent();
  const auto out = scratch_dir("f32");
  auto how = kind(derivation_kind::dtype_change);
  how.type = lineage::dtype::f32;
  write_derived_model(parent_dir, out, how);
  const auto a = read_model(parent_dir);
  const auto b = read_model(out);
  for (const auto& [name, tensor] : a) {
    ASSERT_EQ(b.at(name).dtype, "F32");
    EXPECT_EQ(values_of(tensor), values_of(b.at(name))) << name;
  }
  EXPECT_EQ(read_json(out / "config.json").at("torch_dtype"), "float32");

  // And back: F32 -> BF16 recovers the original bytes.
  const auto back = scratch_dir("back");
  how.type = lineage::dtype::bf16;
  write_derived_model(out, back, how);
  const auto c = read_model(back);
  for (const auto& [name, tensor] : a) EXPECT_EQ(tensor.bytes, c.at(name).bytes) << name;
}

TEST(SynthDerive, ReshardPreservesEveryTensorsBytes) {
  const auto parent_dir = make_parent();
  const auto out = scratch_dir("reshard");
  auto how = kind(derivation_kind::reshard);
  how.shards = 5;
  write_derived_model(parent_dir, out, how);
  EXPECT_TRUE(std::filesystem::exists(out / "model-00005-of-00005.safetensors"));
  const auto a = read_model(parent_dir);
  const auto b = read_model(out);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) EXPECT_EQ(tensor.bytes, b.at(name).bytes) << name;

  const auto single = scratch_dir("single");
  how.shards = 1;
  write_derived_model(out, single, how);
  EXPECT_EQ(model_file_names(single),
            (std::vector<std::string>{"config.json", "model.safetensors", "tokenizer.json"}));
  for (const auto& [name, tensor] : read_model(single))
    EXPECT_EQ(tensor.bytes, a.at(name).bytes) << name;
}

TEST(SynthDerive, InjectNonfinitePutsKNonfiniteValues) {
  const auto parent_dir = make_parent();
  const auto out = scratch_dir("nonfinite");
  auto how = kind(derivation_kind::copy);
  const std::string target = "model.layers.1.self_attn.k_proj.weight";
  how.injections.push_back({target, 7});
  write_derived_model(parent_dir, out, how);
  const auto a = read_model(parent_dir);
  const auto b = read_model(out);
  int nans = 0, infinities = 0, changed = 0;
  const auto x = values_of(a.at(target));
  const auto y = values_of(b.at(target));
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (std::isnan(y[i])) ++nans;
    if (std::isinf(y[i]) && y[i] > 0) ++infinities;
    if (!(x[i] == y[i])) ++changed;
  }
  EXPECT_EQ(nans, 4);
  EXPECT_EQ(infinities, 3);
  EXPECT_EQ(changed, 7);
  for (const auto& [name, tensor] : a) {
    if (name != target) {
      EXPECT_EQ(tensor.bytes, b.at(name).bytes) << name;
    }
  }
}

TEST(SynthDerive, RejectsOptionsThatDoNotFitTheKind) {
  const auto parent_dir = make_parent();
  const auto out = scratch_dir("rejected");
  EXPECT_THROW(write_derived_model(parent_dir, out, kind(derivation_kind::dtype_change)),
               lineage::usage_error);
  EXPECT_THROW(write_derived_model(parent_dir, out, kind(derivation_kind::reshard)),
               lineage::usage_error);
  auto scaled_copy = kind(derivation_kind::copy);
  scaled_copy.scale = 0.1;
  EXPECT_THROW(write_derived_model(parent_dir, out, scaled_copy), lineage::usage_error);
  auto unknown_tensor = kind(derivation_kind::copy);
  unknown_tensor.injections.push_back({"no.such.tensor", 1});
  EXPECT_THROW(write_derived_model(parent_dir, out, unknown_tensor), lineage::usage_error);
  EXPECT_THROW(write_derived_model(parent_dir, parent_dir, kind(derivation_kind::copy)),
               lineage::usage_error);
  EXPECT_THROW(write_derived_model(out, scratch_dir("child"), kind(derivation_kind::copy)),
               lineage::input_error);  // `out` holds no model
}

TEST(SynthCli, IndependentAndDeriveRunFromTheCommandLine) {
  const auto parent = scratch_dir("parent");
  const auto child = scratch_dir("child");
  EXPECT_EQ(run_cli({"synth",
                     "independent",
                     "--seed",
                     "9",
                     "-o",
                     parent.string(),
                     "--layers",
                     "1",
                     "--hidden",
                     "64",
                     "--intermediate",
                     "128",
                     "--heads",
                     "4",
                     "--kv-heads",
                     "2",
                     "--vocab",
                     "64",
                     "--dtype",
                     "F16",
                     "--shards",
                     "2",
                     "--tie-embeddings"}),
            0);
  const auto config = read_json(parent / "config.json");
  EXPECT_EQ(config.at("torch_dtype"), "float16");
  EXPECT_EQ(config.at("num_hidden_layers"), 1);
  EXPECT_EQ(config.at("tie_word_embeddings"), true);
  EXPECT_EQ(read_model(parent).at("model.norm.weight").dtype, "F16");

  EXPECT_EQ(run_cli({"synth", "derive", "--from", parent.string(), "-o", child.string(), "--kind",
                     "noise", "--scale", "0.02", "--seed", "3", "--dtype", "F32", "--shards", "1",
                     "--inject-nonfinite", "model.norm.weight:2"}),
            0);
  const auto derived = read_json(child / "config.json");
  EXPECT_EQ(derived.at("lineage_synth").at("scale"), 0.02);
  EXPECT_EQ(derived.at("lineage_synth").at("seed"), 3);
  const auto norm = values_of(read_model(child).at("model.norm.weight"));
  EXPECT_TRUE(std::isnan(norm[16]));
  EXPECT_TRUE(std::isinf(norm[48]));

  EXPECT_THROW(run_cli({"synth", "derive", "--from", parent.string(), "-o", child.string(),
                        "--kind", "copy", "--inject-nonfinite", "model.norm.weight"}),
               lineage::usage_error);
  EXPECT_THROW(run_cli({"synth", "derive", "--from", parent.string(), "-o", child.string(),
                        "--kind", "sideways"}),
               CLI::ValidationError);
}

}  // namespace
