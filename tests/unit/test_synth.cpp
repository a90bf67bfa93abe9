// lineage synth, independent models: file format, determinism, and value statistics.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "synth/safetensors_writer.hpp"
#include "synth/synth.hpp"
#include "test_synth_support.hpp"

namespace {

using namespace synth_test;
using lineage::synth::model_shape;
using lineage::synth::write_independent_model;
using lineage::synth::write_options;

model_shape tiny_shape() {
  model_shape shape;
  shape.layers = 2;
  shape.hidden = 64;
  shape.intermediate = 96;
  shape.heads = 4;
  shape.kv_heads = 2;
  shape.vocab = 128;
  return shape;
}

TEST(SynthIndependent, SameSeedGivesByteIdenticalFiles) {
  const auto first = scratch_dir("first");
  const auto second = scratch_dir("second");
  write_independent_model(tiny_shape(), 7, first, {});
  write_independent_model(tiny_shape(), 7, second, {});
  const auto names = model_file_names(first);
  ASSERT_EQ(names, model_file_names(second));
  ASSERT_EQ(names, (std::vector<std::string>{"config.json", "model.safetensors", "tokenizer.json"}));
  for (const auto& name : names)
    EXPECT_EQ(read_bytes(first / name), read_bytes(second / name)) << name;
}

TEST(SynthIndependent, DifferentSeedsDiffer) {
  const auto first = scratch_dir("first");
  const auto second = scratch_dir("second");
  write_independent_model(tiny_shape(), 7, first, {});
  write_independent_model(tiny_shape(), 8, second, {});
  const auto a = read_model(first);
  const auto b = read_model(second);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, tensor] : a) EXPECT_NE(tensor.bytes, b.at(name).bytes) << name;
}

TEST(SynthFormat, HeaderParsesWithContiguousPaddedOffsets) {
  const auto dir = scratch_dir("model");
  write_independent_model(tiny_shape(), 3, dir, {});
  const auto file = parse_safetensors(dir / "model.safetensors");
  EXPECT_EQ((8 + file.header_length) % 8, 0u);
  EXPECT_EQ(file.header.at("__metadata__"), (nlohmann::json{{"format", "pt"}}));
  // Tensors in name order, back to back from offset 0 to the end of the file.
  std::uint64_t expected_begin = 0;
  for (const auto& [name, tensor] : file.tensors) {
    EXPECT_EQ(tensor.begin, expected_begin) << name;
    EXPECT_EQ(tensor.dtype, "BF16");
    const auto elements = std::accumulate(tensor.shape.begin(), tensor.shape.end(),
                                          std::uint64_t{1}, std::multiplies<>());
    EXPECT_EQ(tensor.end - tensor.begin, 2 * elements) << name;
    expected_begin = tensor.end;
  }
  EXPECT_EQ(expected_begin, file.data_length);
}

TEST(SynthFormat, TensorNamesAndShapesFollowLlama) {
  auto shape = tiny_shape();
  const auto dir = scratch_dir("model");
  write_independent_model(shape, 3, dir, {});
  const auto tensors = read_model(dir);
  EXPECT_EQ(tensors.size(), 2 + 9 * shape.layers + 1);
  EXPECT_EQ(tensors.at("model.embed_tokens.weight").shape, (std::vector<std::uint64_t>{128, 64}));
  EXPECT_EQ(tensors.at("lm_head.weight").shape, (std::vector<std::uint64_t>{128, 64}));
  EXPECT_EQ(tensors.at("model.norm.weight").shape, (std::vector<std::uint64_t>{64}));
  EXPECT_EQ(tensors.at("model.layers.1.self_attn.q_proj.weight").shape,
            (std::vector<std::uint64_t>{64, 64}));
  EXPECT_EQ(tensors.at("model.layers.1.self_attn.k_proj.weight").shape,
            (std::vector<std::uint64_t>{32, 64}));
  EXPECT_EQ(tensors.at("model.layers.0.self_attn.o_proj.weight").shape,
            (std::vector<std::uint64_t>{64, 64}));
  EXPECT_EQ(tensors.at("model.layers.0.mlp.down_proj.weight").shape,
            (std::vector<std::uint64_t>{64, 96}));
  EXPECT_EQ(tensors.at("model.layers.0.post_attention_layernorm.weight").shape,
            (std::vector<std::uint64_t>{64}));

  const auto config = read_json(dir / "config.json");
  EXPECT_EQ(config.at("model_type"), "llama");
  EXPECT_EQ(config.at("architectures"), nlohmann::json::array({"LlamaForCausalLM"}));
  EXPECT_EQ(config.at("head_dim"), 16);
  EXPECT_EQ(config.at("num_key_value_heads"), 2);
  EXPECT_EQ(config.at("torch_dtype"), "bfloat16");
  EXPECT_EQ(config.at("lineage_synth").at("seed"), 3);
  EXPECT_EQ(config.at("lineage_synth").at("kind"), "independent");

  shape.tie_embeddings = true;
  const auto tied = scratch_dir("tied");
  write_independent_model(shape, 3, tied, {lineage::dtype::f32, 1});
  EXPECT_EQ(read_model(tied).count("lm_head.weight"), 0u);
  EXPECT_EQ(read_json(tied / "config.json").at("tie_word_embeddings"), true);
  EXPECT_EQ(read_json(tied / "config.json").at("torch_dtype"), "float32");
}

TEST(SynthFormat, ShardedIndexListsEveryTensor) {
  const auto dir = scratch_dir("model");
  write_independent_model(tiny_shape(), 3, dir, {lineage::dtype::bf16, 3});
  EXPECT_EQ(
      model_file_names(dir),
      (std::vector<std::string>{
          "config.json", "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
          "model-00003-of-00003.safetensors", "model.safetensors.index.json", "tokenizer.json"}));
  const auto index = read_json(dir / "model.safetensors.index.json");
  std::uint64_t total = 0;
  std::string previous_file;
  std::size_t listed = 0;
  for (const auto& [name, file] : index.at("weight_map").items()) {
    const auto shard = parse_safetensors(dir / file.get<std::string>());
    ASSERT_EQ(shard.tensors.count(name), 1u) << name;
    total += shard.tensors.at(name).bytes.size();
    EXPECT_GE(file.get<std::string>(), previous_file) << "shards must follow name order";
    previous_file = file.get<std::string>();
    ++listed;
  }
  EXPECT_EQ(listed, 2 + 9 * 2 + 1u);
  EXPECT_EQ(index.at("metadata").at("total_size").get<std::uint64_t>(), total);

  // Writing one file into the same directory removes the earlier shards and index.
  write_independent_model(tiny_shape(), 3, dir, {});
  EXPECT_EQ(model_file_names(dir), (std::vector<std::string>{"config.json", "model.safetensors", "tokenizer.json"}));
}

TEST(SynthShards, BalanceKeepsOrderAndFillsEveryShard) {
  using lineage::synth::balance_shards;
  const std::vector<std::uint64_t> equal(8, 100);
  EXPECT_EQ(balance_shards(equal, 4), (std::vector<std::size_t>{0, 2, 4, 6, 8}));
  EXPECT_EQ(balance_shards(equal, 1), (std::vector<std::size_t>{0, 8}));
  // One huge tensor first: it takes a shard alone and the rest still get one each.
  const std::vector<std::uint64_t> skewed{1000, 1, 1, 1};
  EXPECT_EQ(balance_shards(skewed, 3), (std::vector<std::size_t>{0, 1, 2, 4}));
  EXPECT_EQ(balance_shards(skewed, 4), (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  EXPECT_THROW(balance_shards(skewed, 5), lineage::usage_error);
  EXPECT_THROW(balance_shards(skewed, 0), lineage::usage_error);
}

TEST(SynthRandom, NormalSamplerHasUnitMomentsAndStreamsAreKeyed) {
  lineage::random_stream stream(42, "test", "tensor");
  double sum = 0, sum_of_squares = 0;
  const int draws = 200000;
  for (int i = 0; i < draws; ++i) {
    const double z = stream.normal();
    sum += z;
    sum_of_squares += z * z;
  }
  EXPECT_NEAR(sum / draws, 0.0, 0.01);
  EXPECT_NEAR(sum_of_squares / draws, 1.0, 0.01);
  lineage::random_stream same(42, "test", "tensor"), other_name(42, "test", "tensor2"),
      other_seed(43, "test", "tensor");
  const auto first = lineage::random_stream(42, "test", "tensor").next_u64();
  EXPECT_EQ(same.next_u64(), first);
  EXPECT_NE(other_name.next_u64(), first);
  EXPECT_NE(other_seed.next_u64(), first);
}

// The LayerNorm illusion (DESIGN.md section 1): unrelated norm weights have a raw cosine near 1 but
// no correlation. Wide tensors keep the sampling spread of Pearson small (1 / sqrt(1024)).
TEST(SynthIndependent, UnrelatedNormWeightsHaveHighCosineButNoPearson) {
  model_shape shape;
  shape.layers = 3;
  shape.hidden = 1024;
  shape.intermediate = 16;
  shape.heads = 8;
  shape.kv_heads = 1;
  shape.vocab = 16;
  const auto first = scratch_dir("first");
  const auto second = scratch_dir("second");
  write_independent_model(shape, 11, first, {});
  write_independent_model(shape, 12, second, {});
  const auto a = read_model(first);
  const auto b = read_model(second);
  double pearson_sum = 0;
  int norms = 0;
  for (const auto& [name, tensor] : a) {
    if (tensor.shape.size() != 1) continue;
    const auto x = values_of(tensor);
    const auto y = values_of(b.at(name));
    for (const double v : x) ASSERT_GT(v, 0.0) << name;
    EXPECT_GT(cosine(x, y), 0.9) << name;
    EXPECT_LT(std::abs(pearson(x, y)), 0.15) << name;
    pearson_sum += pearson(x, y);
    ++norms;
  }
  EXPECT_EQ(norms, 7);
  EXPECT_LT(std::abs(pearson_sum / norms), 0.1);
}

TEST(SynthIndependent, MatricesFollowFanInWithRowSpread) {
  model_shape shape = tiny_shape();
  shape.hidden = 256;
  shape.intermediate = 512;
  const auto dir = scratch_dir("model");
  write_independent_model(shape, 5, dir, {lineage::dtype::f32, 1});
  const auto tensors = read_model(dir);
  auto row_rms = [](const raw_tensor& tensor) {
    const auto values = values_of(tensor);
    const std::size_t columns = tensor.shape[1];
    std::vector<double> rms;
    for (std::size_t start = 0; start < values.size(); start += columns) {
      double sum = 0;
      for (std::size_t i = start; i < start + columns; ++i) sum += values[i] * values[i];
      rms.push_back(std::sqrt(sum / static_cast<double>(columns)));
    }
    return rms;
  };
  auto log_stats = [](const std::vector<double>& rms) {
    double mean = 0, sq = 0;
    for (const double r : rms) mean += std::log(r);
    mean /= static_cast<double>(rms.size());
    for (const double r : rms) sq += (std::log(r) - mean) * (std::log(r) - mean);
    return std::pair{std::exp(mean), std::sqrt(sq / static_cast<double>(rms.size() - 1))};
  };
  const auto [up_scale, up_spread] =
      log_stats(row_rms(tensors.at("model.layers.0.mlp.up_proj.weight")));
  EXPECT_NEAR(up_scale, 1.0 / 16, 0.1 / 16);  // fan_in 256
  EXPECT_NEAR(up_spread, 0.2, 0.04);          // log-normal row scales
  const auto [down_scale, down_spread] =
      log_stats(row_rms(tensors.at("model.layers.0.mlp.down_proj.weight")));
  EXPECT_NEAR(down_scale, 1.0 / std::sqrt(512.0), 0.1 / std::sqrt(512.0));
  const auto [embed_scale, embed_spread] =
      log_stats(row_rms(tensors.at("model.embed_tokens.weight")));
  EXPECT_NEAR(embed_scale, 0.02, 0.003);
  EXPECT_GT(embed_spread, 0.1);
}

TEST(SynthIndependent, LayerCorrelationLinksNormLayersOfOneModel) {
  model_shape shape = tiny_shape();
  shape.hidden = 1024;
  shape.heads = 8;
  shape.kv_heads = 1;
  shape.intermediate = 16;
  shape.vocab = 16;
  const auto dir = scratch_dir("model");
  write_options options;
  options.layer_correlation = 0.6;
  write_independent_model(shape, 5, dir, options);
  const auto tensors = read_model(dir);
  const auto layer0 = values_of(tensors.at("model.layers.0.input_layernorm.weight"));
  const auto layer1 = values_of(tensors.at("model.layers.1.input_layernorm.weight"));
  EXPECT_NEAR(pearson(layer0, layer1), 0.6, 0.1);

  const auto plain = scratch_dir("plain");
  write_independent_model(shape, 5, plain, {});
  const auto independent = read_model(plain);
  EXPECT_LT(std::abs(pearson(values_of(independent.at("model.layers.0.input_layernorm.weight")),
                             values_of(independent.at("model.layers.1.input_layernorm.weight")))),
            0.15);
}

TEST(SynthIndependent, RejectsShapesThatDoNotDivide) {
  model_shape shape = tiny_shape();
  shape.heads = 5;
  EXPECT_THROW(write_independent_model(shape, 1, scratch_dir("model"), {}), lineage::usage_error);
  shape = tiny_shape();
  shape.kv_heads = 3;
  EXPECT_THROW(write_independent_model(shape, 1, scratch_dir("model"), {}), lineage::usage_error);
  shape = tiny_shape();
  shape.layers = 0;
  EXPECT_THROW(write_independent_model(shape, 1, scratch_dir("model"), {}), lineage::usage_error);
}

}  // namespace
