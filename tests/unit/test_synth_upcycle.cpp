// lineage synth upcycle: a Mixtral MoE model grown from a dense Llama parent, every expert a copy
// of its layer's MLP plus small independent noise, the router new. Names are checked against
// configs/architectures/mixtral.yaml, so the comparison pairs what synth writes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <optional>
#include <regex>
#include <set>

#include "core/error.hpp"
#include "synth/synth.hpp"
#include "test_synth_support.hpp"

namespace {

using namespace synth_test;
using lineage::synth::derivation;
using lineage::synth::derivation_kind;
using lineage::synth::write_derived_model;
using lineage::synth::write_independent_model;

std::filesystem::path make_dense(lineage::dtype type = lineage::dtype::f32) {
  const auto dir = scratch_dir("dense");
  write_independent_model(dense_test_shape(), 31, dir, {type, 1});
  return dir;
}

derivation upcycle(std::uint64_t experts, std::optional<double> noise = std::nullopt) {
  derivation how;
  how.kind = derivation_kind::upcycle;
  how.seed = 9;
  how.expert_count = experts;
  how.noise = noise;
  return how;
}


std::string in_layer(std::uint64_t layer, const std::string& suffix) {
  return "model.layers." + std::to_string(layer) + "." + suffix;
}

std::string expert(std::uint64_t layer, std::uint64_t e, const char* projection) {
  return in_layer(layer,
                  "block_sparse_moe.experts." + std::to_string(e) + "." + projection + ".weight");
}

// The name patterns of configs/architectures/mixtral.yaml ({layer}, {expert}: digits).
std::vector<std::regex> mixtral_patterns() {
  std::ifstream yaml(std::filesystem::path(LINEAGE_SOURCE_DIR) / "configs" / "architectures" /
                     "mixtral.yaml");
  std::vector<std::regex> patterns;
  const std::regex rule(R"re(^\s*- match:\s*"([^"]+)")re");
  for (std::string line; std::getline(yaml, line);) {
    std::smatch found;
    if (!std::regex_search(line, found, rule)) continue;
    std::string pattern = found[1];
    pattern = std::regex_replace(pattern, std::regex(R"(\.)"), R"(\.)");
    pattern = std::regex_replace(pattern, std::regex(R"(\{(layer|expert)\})"), "[0-9]+");
    patterns.emplace_back(pattern);
  }
  return patterns;
}

TEST(SynthUpcycle, WritesTheMixtralLayoutWithOneCopyOfTheMlpPerExpert) {
  const auto parent_dir = make_dense();
  const auto child_dir = derive(parent_dir, upcycle(3), "child");
  const auto parent = read_model(parent_dir);
  const auto child = read_model(child_dir);

  std::set<std::string> expected;
  for (const auto& [name, tensor] : parent)
    if (name.find(".mlp.") == std::string::npos) expected.insert(name);
  for (std::uint64_t layer = 0; layer < 2; ++layer) {
    expected.insert(in_layer(layer, "block_sparse_moe.gate.weight"));
    for (std::uint64_t e = 0; e < 3; ++e)
      for (const char* projection : {"w1", "w2", "w3"})
        expected.insert(expert(layer, e, projection));
  }
  std::set<std::string> written;
  for (const auto& [name, tensor] : child) written.insert(name);
  EXPECT_EQ(written, expected);

  const auto patterns = mixtral_patterns();
  ASSERT_GE(patterns.size(), 10u);
  for (const auto& name : written) {
    const bool mapped = std::any_of(patterns.begin(), patterns.end(),
                                    [&](const std::regex& p) { return std::regex_match(name, p); });
    EXPECT_TRUE(mapped) << name << " is not a name of configs/architectures/mixtral.yaml";
  }

  for (std::uint64_t layer = 0; layer < 2; ++layer) {
    const auto& router = child.at(in_layer(layer, "block_sparse_moe.gate.weight"));
    EXPECT_EQ(router.shape, (std::vector<std::uint64_t>{3, 32}));
    EXPECT_EQ(router.dtype, "F32");
    // Fresh rows, scaled like an independent model's matrices (1 / sqrt(hidden)).
    const auto router_values = values_of(router);
    const double rms = std::sqrt(
        std::inner_product(router_values.begin(), router_values.end(), router_values.begin(), 0.0) /
        static_cast<double>(router_values.size()));
    EXPECT_GT(rms, 0.5 / std::sqrt(32.0));
    EXPECT_LT(rms, 2.0 / std::sqrt(32.0));
    const std::pair<const char*, const char*> copies[] = {{"w1", "mlp.gate_proj.weight"},
                                                          {"w3", "mlp.up_proj.weight"},
                                                          {"w2", "mlp.down_proj.weight"}};
    for (const auto& [projection, dense_name] : copies) {
      const auto& dense = parent.at(in_layer(layer, dense_name));
      const auto dense_values = values_of(dense);
      std::vector<std::vector<double>> experts;
      for (std::uint64_t e = 0; e < 3; ++e) {
        const auto& copy = child.at(expert(layer, e, projection));
        EXPECT_EQ(copy.shape, dense.shape);
        experts.push_back(values_of(copy));
        // The default noise: relative size 0.01 (F32, so no rounding on top).
        EXPECT_NEAR(relative_l2(dense_values, experts.back()), 0.01, 0.002)
            << expert(layer, e, projection);
      }
      EXPECT_NE(experts[0], experts[1]) << "each expert draws its own noise";
    }
  }
  for (const auto& [name, tensor] : parent)
    if (expected.count(name)) {
      EXPECT_EQ(child.at(name).bytes, tensor.bytes) << name;
    }

  const auto config = read_json(child_dir / "config.json");
  EXPECT_EQ(config.at("model_type"), "mixtral");
  EXPECT_EQ(config.at("architectures"), nlohmann::json({"MixtralForCausalLM"}));
  EXPECT_EQ(config.at("num_local_experts"), 3);
  EXPECT_EQ(config.at("num_experts_per_tok"), 2);
  EXPECT_EQ(config.at("hidden_size"), 32);
  EXPECT_EQ(config.at("intermediate_size"), 48);
  const auto& provenance = config.at("lineage_synth");
  EXPECT_EQ(provenance.at("kind"), "upcycle");
  EXPECT_EQ(provenance.at("upcycled_from_dense"), true);
  EXPECT_EQ(provenance.at("experts"), 3);
  EXPECT_EQ(provenance.at("noise"), 0.01);
  EXPECT_EQ(provenance.at("seed"), 9);
}

TEST(SynthUpcycle, WithoutNoiseEveryExpertIsTheDenseMlpBitForBit) {
  const auto parent_dir = make_dense(lineage::dtype::bf16);
  const auto child_dir = derive(parent_dir, upcycle(1, 0.0), "child");
  const auto parent = read_model(parent_dir);
  const auto child = read_model(child_dir);
  for (std::uint64_t layer = 0; layer < 2; ++layer) {
    EXPECT_EQ(child.at(expert(layer, 0, "w1")).bytes,
              parent.at(in_layer(layer, "mlp.gate_proj.weight")).bytes);
    EXPECT_EQ(child.at(expert(layer, 0, "w3")).bytes,
              parent.at(in_layer(layer, "mlp.up_proj.weight")).bytes);
    EXPECT_EQ(child.at(expert(layer, 0, "w2")).bytes,
              parent.at(in_layer(layer, "mlp.down_proj.weight")).bytes);
    EXPECT_EQ(child.at(in_layer(layer, "block_sparse_moe.gate.weight")).dtype, "BF16");
  }
  EXPECT_EQ(read_json(child_dir / "config.json").at("num_experts_per_tok"), 1);
}

TEST(SynthUpcycle, ChainsWithTheDisguises) {
  // The Mixtral child can itself be permuted, rescaled and extended; its function survives.
  const auto parent_dir = make_dense();
  const auto upcycled = derive(parent_dir, upcycle(3), "upcycled");
  derivation neurons;
  neurons.kind = derivation_kind::permute_neurons;
  const auto permuted = derive(upcycled, neurons, "permuted");
  const auto permutation =
      read_json(permuted / "config.json").at("lineage_synth").at("neuron_permutation");
  EXPECT_EQ(permutation.size(), 6u);
  EXPECT_TRUE(permutation.contains("model.layers.1.block_sparse_moe.experts.2"));
  derivation hidden;
  hidden.kind = derivation_kind::permute_hidden;
  const auto moved = derive(permuted, hidden, "moved");
  derivation rescale;
  rescale.kind = derivation_kind::rescale_norms;
  const auto rescaled = derive(moved, rescale, "rescaled");
  const std::vector<std::uint64_t> tokens{1, 9, 30};
  const auto expected =
      forward_pass(read_model(upcycled), read_json(upcycled / "config.json"), tokens);
  const auto got = forward_pass(read_model(rescaled), read_json(rescaled / "config.json"), tokens);
  EXPECT_LT(relative_difference(expected.logits, got.logits), 1e-4);
}

TEST(SynthUpcycle, RejectsMoeParentsAndBadExpertCounts) {
  const auto dense = make_dense();
  const auto out = scratch_dir("rejected");
  const auto moe = scratch_dir("moe");
  write_independent_model(moe_test_shape(4, 1), 2, moe, {});
  try {
    write_derived_model(moe, out, upcycle(2));
    ADD_FAILURE() << "an MoE parent was upcycled";
  } catch (const lineage::usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("--kind upcycle"), std::string::npos) << e.what();
  }
  // An upcycled model is MoE too.
  const auto upcycled = derive(dense, upcycle(2), "upcycled");
  EXPECT_THROW(write_derived_model(upcycled, out, upcycle(2)), lineage::usage_error);

  derivation missing;
  missing.kind = derivation_kind::upcycle;
  EXPECT_THROW(write_derived_model(dense, out, missing), lineage::usage_error);
  EXPECT_THROW(write_derived_model(dense, out, upcycle(0)), lineage::usage_error);
  EXPECT_THROW(write_derived_model(dense, out, upcycle(2, -0.5)), lineage::usage_error);
  auto listed = upcycle(2);
  listed.experts = {1, 2};
  EXPECT_THROW(write_derived_model(dense, out, listed), lineage::usage_error);
  auto scaled = upcycle(2);
  scaled.scale = 0.1;
  EXPECT_THROW(write_derived_model(dense, out, scaled), lineage::usage_error);
  derivation noisy_copy;
  noisy_copy.kind = derivation_kind::copy;
  noisy_copy.noise = 0.01;
  EXPECT_THROW(write_derived_model(dense, out, noisy_copy), lineage::usage_error);
  derivation counted_drop;
  counted_drop.kind = derivation_kind::drop_experts;
  counted_drop.expert_count = 2;
  EXPECT_THROW(write_derived_model(dense, out, counted_drop), lineage::usage_error);
}

TEST(SynthCli, UpcycleRunsFromTheCommandLine) {
  const auto dense = make_dense();
  const auto child = scratch_dir("child");
  EXPECT_EQ(run_cli({"synth", "derive", "--from", dense.string(), "-o", child.string(), "--kind",
                     "upcycle", "--experts", "4", "--noise", "0", "--seed", "2"}),
            0);
  const auto config = read_json(child / "config.json");
  EXPECT_EQ(config.at("num_local_experts"), 4);
  EXPECT_EQ(config.at("lineage_synth").at("noise"), 0.0);
  const auto model = read_model(child);
  EXPECT_EQ(model.at(expert(1, 3, "w2")).bytes,
            read_model(dense).at("model.layers.1.mlp.down_proj.weight").bytes);
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--kind", "upcycle", "--experts", "2,3"},
        std::vector<std::string>{"--kind", "upcycle"},
        std::vector<std::string>{"--kind", "permute-neurons", "--noise", "0.1"},
        std::vector<std::string>{"--kind", "extend-vocab", "--tokens", "2", "--experts", "2"}}) {
    std::vector<std::string> arguments{"synth",        "derive", "--from",
                                       dense.string(), "-o",     scratch_dir("bad").string()};
    arguments.insert(arguments.end(), bad.begin(), bad.end());
    EXPECT_THROW(run_cli(arguments), lineage::usage_error) << bad[1];
  }
}

}  // namespace
