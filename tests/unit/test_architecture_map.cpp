// Tensor names of each family map to the canonical keys that make families pair: the embedded rule
// files, one test per family, phi3's fused tensors split into row ranges, and the generic fallback.
// Malformed rule files and axes: test_architecture_rules.cpp.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "architecture_test_support.hpp"
#include "arch/architecture_map.hpp"
#include "core/error.hpp"

namespace lineage {
namespace {

using namespace arch_test;  // NOLINT: the rules and helpers every test here uses

const json phi3_mini_config = {{"model_type", "phi3"},         {"hidden_size", 3072},
                               {"num_attention_heads", 32},     {"num_key_value_heads", 8},
                               {"intermediate_size", 8192},     {"num_hidden_layers", 32}};

// --- the embedded rule files ----------------------------------------------------------------

TEST(ArchitectureRegistry, EveryEmbeddedFileLoadsOnItsOwn) {
  ASSERT_FALSE(embedded_architecture_files().empty());
  for (const auto& [file, text] : embedded_architecture_files()) {
    rule_directory directory;
    directory.write(std::string(file), text);
    const architecture_registry registry = architecture_registry::load(directory.path());
    ASSERT_FALSE(registry.known_model_types().empty()) << file;
    const architecture* rules = registry.find(registry.known_model_types().front());
    ASSERT_NE(rules, nullptr) << file;
    EXPECT_EQ(rules->name() + ".yaml", file);
  }
}

TEST(ArchitectureRegistry, EmbeddedRulesCoverTheReferenceFamilies) {
  const std::vector<std::string> known = embedded_rules().known_model_types();
  for (const char* model_type : {"llama", "mistral", "qwen2", "qwen3", "mixtral", "qwen2_moe", "qwen3_moe",
                                 "glm4_moe", "deepseek_v3", "solar_open", "gpt2", "phi3"}) {
    EXPECT_NE(std::find(known.begin(), known.end(), model_type), known.end()) << model_type;
  }
  EXPECT_TRUE(std::is_sorted(known.begin(), known.end()));
  EXPECT_EQ(family("mistral").name(), "llama");
  EXPECT_EQ(family("qwen3_moe").name(), "qwen2_moe");
  EXPECT_EQ(embedded_rules().find("no_such_model"), nullptr);
}

TEST(ArchitectureRegistry, LoadsADirectoryInsteadOfTheEmbeddedRules) {
  rule_directory directory;
  directory.write("toy.yaml", minimal_rules);
  directory.write("README.md", "not a rule file");
  const architecture_registry registry = architecture_registry::load(directory.path());
  EXPECT_EQ(registry.known_model_types(), std::vector<std::string>{"toy"});
  EXPECT_EQ(registry.find("llama"), nullptr);
}

TEST(ArchitectureRegistry, SourceRuleDirectoryMatchesTheEmbeddedRules) {
  // The directory also holds README.md, which must be ignored.
  const architecture_registry from_source =
      architecture_registry::load(std::filesystem::path(LINEAGE_SOURCE_DIR) / "configs" / "architectures");
  EXPECT_EQ(from_source.known_model_types(), embedded_rules().known_model_types());
}

// --- one test per family --------------------------------------------------------------------

TEST(ArchitectureMap, LlamaNamesBecomeCanonicalRoles) {
  expect_keys("llama", json::object(),
              {{"model.embed_tokens.weight", {-1, "embed_tokens.weight", -1}},
               {"model.norm.weight", {-1, "norm.weight", -1}},
               {"lm_head.weight", {-1, "lm_head.weight", -1}},
               {"model.layers.0.input_layernorm.weight", {0, "input_layernorm.weight", -1}},
               {"model.layers.0.self_attn.q_proj.weight", {0, "self_attn.q_proj.weight", -1}},
               {"model.layers.0.self_attn.k_proj.weight", {0, "self_attn.k_proj.weight", -1}},
               {"model.layers.0.self_attn.v_proj.weight", {0, "self_attn.v_proj.weight", -1}},
               {"model.layers.0.self_attn.o_proj.weight", {0, "self_attn.o_proj.weight", -1}},
               {"model.layers.0.post_attention_layernorm.weight", {0, "post_attention_layernorm.weight", -1}},
               {"model.layers.31.mlp.gate_proj.weight", {31, "mlp.gate_proj.weight", -1}},
               {"model.layers.31.mlp.up_proj.weight", {31, "mlp.up_proj.weight", -1}},
               {"model.layers.31.mlp.down_proj.weight", {31, "mlp.down_proj.weight", -1}}});
}

TEST(ArchitectureMap, MistralPairsWithLlama) {
  for (const char* name : {"model.embed_tokens.weight", "model.layers.7.self_attn.k_proj.weight",
                           "model.layers.7.mlp.down_proj.weight", "model.norm.weight"}) {
    EXPECT_EQ(key_of(family("mistral"), name), key_of(family("llama"), name)) << name;
  }
}

TEST(ArchitectureMap, Qwen2BiasesAndQwen3Norms) {
  expect_keys("qwen2", json::object(),
              {{"model.layers.2.self_attn.q_proj.bias", {2, "self_attn.q_proj.bias", -1}},
               {"model.layers.2.self_attn.k_proj.bias", {2, "self_attn.k_proj.bias", -1}},
               {"model.layers.2.self_attn.v_proj.bias", {2, "self_attn.v_proj.bias", -1}},
               {"model.layers.2.self_attn.q_proj.weight", {2, "self_attn.q_proj.weight", -1}},
               {"model.layers.2.mlp.up_proj.weight", {2, "mlp.up_proj.weight", -1}}});
  expect_keys("qwen3", json::object(),
              {{"model.layers.5.self_attn.q_norm.weight", {5, "self_attn.q_norm.weight", -1}},
               {"model.layers.5.self_attn.k_norm.weight", {5, "self_attn.k_norm.weight", -1}},
               {"model.layers.5.input_layernorm.weight", {5, "input_layernorm.weight", -1}}});
  EXPECT_EQ(key_of(family("qwen2"), "model.layers.5.self_attn.o_proj.weight"),
            key_of(family("llama"), "model.layers.5.self_attn.o_proj.weight"));
}

TEST(ArchitectureMap, MixtralExpertsAndRouter) {
  expect_keys("mixtral", json::object(),
              {{"model.layers.0.block_sparse_moe.gate.weight", {0, "mlp.router.weight", -1}},
               {"model.layers.0.block_sparse_moe.experts.0.w1.weight", {0, "mlp.experts.gate_proj.weight", 0}},
               {"model.layers.0.block_sparse_moe.experts.0.w3.weight", {0, "mlp.experts.up_proj.weight", 0}},
               {"model.layers.0.block_sparse_moe.experts.0.w2.weight", {0, "mlp.experts.down_proj.weight", 0}},
               {"model.layers.12.block_sparse_moe.experts.7.w1.weight", {12, "mlp.experts.gate_proj.weight", 7}},
               {"model.layers.12.self_attn.v_proj.weight", {12, "self_attn.v_proj.weight", -1}},
               {"model.layers.12.post_attention_layernorm.weight", {12, "post_attention_layernorm.weight", -1}}});
}

TEST(ArchitectureMap, MixtralExpertPairsWithQwen2MoeExpert) {
  EXPECT_EQ(key_of(family("mixtral"), "model.layers.3.block_sparse_moe.experts.5.w1.weight"),
            key_of(family("qwen2_moe"), "model.layers.3.mlp.experts.5.gate_proj.weight"));
  EXPECT_EQ(key_of(family("mixtral"), "model.layers.3.block_sparse_moe.experts.5.w3.weight"),
            key_of(family("qwen2_moe"), "model.layers.3.mlp.experts.5.up_proj.weight"));
  EXPECT_EQ(key_of(family("mixtral"), "model.layers.3.block_sparse_moe.experts.5.w2.weight"),
            key_of(family("qwen2_moe"), "model.layers.3.mlp.experts.5.down_proj.weight"));
  EXPECT_EQ(key_of(family("mixtral"), "model.layers.3.block_sparse_moe.gate.weight"),
            key_of(family("qwen2_moe"), "model.layers.3.mlp.gate.weight"));
  EXPECT_NE(key_of(family("mixtral"), "model.layers.3.block_sparse_moe.experts.5.w1.weight"),
            key_of(family("qwen2_moe"), "model.layers.3.mlp.experts.6.gate_proj.weight"));
}

TEST(ArchitectureMap, Qwen2MoeSharedExpertUsesThePluralRoles) {
  expect_keys("qwen2_moe", json::object(),
              {{"model.layers.4.mlp.gate.weight", {4, "mlp.router.weight", -1}},
               {"model.layers.4.mlp.experts.59.down_proj.weight", {4, "mlp.experts.down_proj.weight", 59}},
               {"model.layers.4.mlp.shared_expert.gate_proj.weight", {4, "mlp.shared_experts.gate_proj.weight", -1}},
               {"model.layers.4.mlp.shared_expert.up_proj.weight", {4, "mlp.shared_experts.up_proj.weight", -1}},
               {"model.layers.4.mlp.shared_expert.down_proj.weight", {4, "mlp.shared_experts.down_proj.weight", -1}},
               {"model.layers.4.mlp.shared_expert_gate.weight", {4, "mlp.shared_expert_gate.weight", -1}},
               {"model.layers.4.self_attn.q_proj.bias", {4, "self_attn.q_proj.bias", -1}}});
  expect_keys("qwen3_moe", json::object(),
              {{"model.layers.47.mlp.experts.127.gate_proj.weight", {47, "mlp.experts.gate_proj.weight", 127}},
               {"model.layers.47.self_attn.k_norm.weight", {47, "self_attn.k_norm.weight", -1}}});
  EXPECT_EQ(key_of(family("qwen2_moe"), "model.layers.4.mlp.shared_expert.up_proj.weight"),
            key_of(family("deepseek_v3"), "model.layers.4.mlp.shared_experts.up_proj.weight",
                   json{{"num_hidden_layers", 61}}));
}

const json glm45_air_config = {{"model_type", "glm4_moe"}, {"num_hidden_layers", 46}, {"first_k_dense_replace", 1}};

TEST(ArchitectureMap, Glm4MoeDenseFirstLayerMoeLayersAndMtpLayer) {
  expect_keys("glm4_moe", glm45_air_config,
              {{"model.embed_tokens.weight", {-1, "embed_tokens.weight", -1}},
               {"model.layers.0.mlp.gate_proj.weight", {0, "mlp.gate_proj.weight", -1}},
               {"model.layers.0.mlp.down_proj.weight", {0, "mlp.down_proj.weight", -1}},
               {"model.layers.0.self_attn.q_proj.bias", {0, "self_attn.q_proj.bias", -1}},
               {"model.layers.1.mlp.gate.weight", {1, "mlp.router.weight", -1}},
               {"model.layers.1.mlp.gate.e_score_correction_bias", {1, "mlp.router.e_score_correction_bias", -1}},
               {"model.layers.1.mlp.experts.0.gate_proj.weight", {1, "mlp.experts.gate_proj.weight", 0}},
               {"model.layers.1.mlp.experts.127.up_proj.weight", {1, "mlp.experts.up_proj.weight", 127}},
               {"model.layers.1.mlp.shared_experts.down_proj.weight", {1, "mlp.shared_experts.down_proj.weight", -1}},
               {"model.layers.45.input_layernorm.weight", {45, "input_layernorm.weight", -1}},
               // The MTP block, layer num_hidden_layers = 46: MTP block 0.
               {"model.layers.46.enorm.weight", {0, "mtp.enorm.weight", -1}},
               {"model.layers.46.hnorm.weight", {0, "mtp.hnorm.weight", -1}},
               {"model.layers.46.eh_proj.weight", {0, "mtp.eh_proj.weight", -1}},
               {"model.layers.46.shared_head.norm.weight", {0, "mtp.shared_head.norm.weight", -1}},
               {"model.layers.46.shared_head.head.weight", {0, "mtp.shared_head.head.weight", -1}},
               {"model.layers.46.input_layernorm.weight", {0, "mtp.input_layernorm.weight", -1}},
               {"model.layers.46.self_attn.k_proj.weight", {0, "mtp.self_attn.k_proj.weight", -1}},
               {"model.layers.46.mlp.experts.3.down_proj.weight", {0, "mtp.mlp.experts.down_proj.weight", 3}}});
}

TEST(ArchitectureMap, MtpLayerNeedsNumHiddenLayers) {
  const std::string message = input_error_message(
      [] { (void)key_of(family("glm4_moe"), "model.layers.46.enorm.weight", json{{"model_type", "glm4_moe"}}); });
  expect_mentions(message, {"model.layers.46.enorm.weight", "num_hidden_layers"});
  // Globals need no config at all.
  EXPECT_EQ(key_of(family("glm4_moe"), "lm_head.weight", json::object()), (tensor_key{-1, "lm_head.weight", -1}));
}

TEST(ArchitectureMap, SolarOpenPairsWithGlm4Moe) {
  const json solar_config = {{"model_type", "solar_open"}, {"num_hidden_layers", 48}};
  for (const char* name :
       {"model.layers.10.input_layernorm.weight", "model.layers.10.post_attention_layernorm.weight",
        "model.layers.10.self_attn.k_proj.weight", "model.layers.10.mlp.gate.weight",
        "model.layers.10.mlp.gate.e_score_correction_bias", "model.layers.10.mlp.experts.42.up_proj.weight",
        "model.layers.10.mlp.shared_experts.gate_proj.weight", "model.embed_tokens.weight"}) {
    EXPECT_EQ(key_of(family("solar_open"), name, solar_config), key_of(family("glm4_moe"), name, glm45_air_config))
        << name;
  }
  // Solar's layer 46 is an ordinary layer; GLM's is the MTP block, so they must not pair.
  EXPECT_NE(key_of(family("solar_open"), "model.layers.46.self_attn.q_proj.weight", solar_config),
            key_of(family("glm4_moe"), "model.layers.46.self_attn.q_proj.weight", glm45_air_config));
}

TEST(ArchitectureMap, MtpBlocksPairAcrossDepths) {
  // A 44-layer derivative of GLM-4.5-Air (two layers pruned) keeps its MTP block at index 44: both
  // are MTP block 0 and pair, while ordinary layer 44 of the deeper model does not.
  const json pruned_config = {{"model_type", "glm4_moe"}, {"num_hidden_layers", 44}};
  EXPECT_EQ(key_of(family("glm4_moe"), "model.layers.44.enorm.weight", pruned_config),
            key_of(family("glm4_moe"), "model.layers.46.enorm.weight", glm45_air_config));
  EXPECT_EQ(key_of(family("glm4_moe"), "model.layers.44.mlp.experts.7.up_proj.weight", pruned_config),
            (tensor_key{0, "mtp.mlp.experts.up_proj.weight", 7}));
  EXPECT_NE(key_of(family("glm4_moe"), "model.layers.44.input_layernorm.weight", pruned_config),
            key_of(family("glm4_moe"), "model.layers.44.input_layernorm.weight", glm45_air_config));
}

TEST(ArchitectureMap, DeepseekV3LowRankAttentionMoeAndMtp) {
  const json config = {{"model_type", "deepseek_v3"}, {"num_hidden_layers", 61}, {"first_k_dense_replace", 3}};
  expect_keys("deepseek_v3", config,
              {{"model.layers.0.self_attn.q_a_proj.weight", {0, "self_attn.q_a_proj.weight", -1}},
               {"model.layers.0.self_attn.q_a_layernorm.weight", {0, "self_attn.q_a_layernorm.weight", -1}},
               {"model.layers.0.self_attn.q_b_proj.weight", {0, "self_attn.q_b_proj.weight", -1}},
               {"model.layers.0.self_attn.kv_a_proj_with_mqa.weight", {0, "self_attn.kv_a_proj_with_mqa.weight", -1}},
               {"model.layers.0.self_attn.kv_a_layernorm.weight", {0, "self_attn.kv_a_layernorm.weight", -1}},
               {"model.layers.0.self_attn.kv_b_proj.weight", {0, "self_attn.kv_b_proj.weight", -1}},
               {"model.layers.0.self_attn.o_proj.weight", {0, "self_attn.o_proj.weight", -1}},
               {"model.layers.0.mlp.up_proj.weight", {0, "mlp.up_proj.weight", -1}},
               {"model.layers.3.mlp.gate.weight", {3, "mlp.router.weight", -1}},
               {"model.layers.3.mlp.gate.e_score_correction_bias", {3, "mlp.router.e_score_correction_bias", -1}},
               {"model.layers.3.mlp.experts.255.down_proj.weight", {3, "mlp.experts.down_proj.weight", 255}},
               {"model.layers.3.mlp.shared_experts.gate_proj.weight", {3, "mlp.shared_experts.gate_proj.weight", -1}},
               {"model.layers.61.embed_tokens.weight", {0, "mtp.embed_tokens.weight", -1}},
               {"model.layers.61.enorm.weight", {0, "mtp.enorm.weight", -1}},
               {"model.layers.61.eh_proj.weight", {0, "mtp.eh_proj.weight", -1}},
               {"model.layers.61.shared_head.head.weight", {0, "mtp.shared_head.head.weight", -1}},
               {"model.layers.61.self_attn.kv_b_proj.weight", {0, "mtp.self_attn.kv_b_proj.weight", -1}}});
}

TEST(ArchitectureMap, Gpt2WithAndWithoutTransformerPrefix) {
  const std::vector<std::pair<std::string, tensor_key>> bare = {
      {"wte.weight", {-1, "embed_tokens.weight", -1}},
      {"wpe.weight", {-1, "embed_positions.weight", -1}},
      {"ln_f.weight", {-1, "norm.weight", -1}},
      {"ln_f.bias", {-1, "norm.bias", -1}},
      {"h.0.ln_1.weight", {0, "input_layernorm.weight", -1}},
      {"h.0.ln_1.bias", {0, "input_layernorm.bias", -1}},
      {"h.0.attn.c_attn.weight", {0, "attn.c_attn.weight", -1}},
      {"h.0.attn.c_attn.bias", {0, "attn.c_attn.bias", -1}},
      {"h.0.attn.c_proj.weight", {0, "attn.c_proj.weight", -1}},
      {"h.0.ln_2.weight", {0, "post_attention_layernorm.weight", -1}},
      {"h.11.mlp.c_fc.weight", {11, "mlp.c_fc.weight", -1}},
      {"h.11.mlp.c_proj.bias", {11, "mlp.c_proj.bias", -1}},
      {"h.11.attn.bias", {11, "attn.causal_mask", -1}}};
  const architecture& gpt2 = family("gpt2");
  for (const auto& [name, key] : bare) {
    EXPECT_EQ(key_of(gpt2, name), key) << name;
    EXPECT_EQ(key_of(gpt2, "transformer." + name), key) << "transformer." << name;
  }
}

TEST(ArchitectureMap, Gpt2ConvWeightsNeverPairWithLinearWeights) {
  const architecture& gpt2 = family("gpt2");
  const std::vector<tensor_key> conv_keys = {key_of(gpt2, "h.3.attn.c_attn.weight"), key_of(gpt2, "h.3.attn.c_proj.weight"),
                                             key_of(gpt2, "h.3.mlp.c_fc.weight"), key_of(gpt2, "h.3.mlp.c_proj.weight")};
  const architecture& llama = family("llama");
  for (const char* name : {"q_proj", "k_proj", "v_proj", "o_proj"}) {
    const tensor_key linear = key_of(llama, "model.layers.3.self_attn." + std::string(name) + ".weight");
    EXPECT_EQ(std::find(conv_keys.begin(), conv_keys.end(), linear), conv_keys.end()) << name;
  }
  for (const char* name : {"gate_proj", "up_proj", "down_proj"}) {
    const tensor_key linear = key_of(llama, "model.layers.3.mlp." + std::string(name) + ".weight");
    EXPECT_EQ(std::find(conv_keys.begin(), conv_keys.end(), linear), conv_keys.end()) << name;
  }
  // The norms, though, are the same kind of vector and do pair.
  EXPECT_EQ(key_of(gpt2, "h.3.ln_1.weight"), key_of(llama, "model.layers.3.input_layernorm.weight"));
}

// --- phi3: fused tensors split into row ranges -------------------------------------------------

TEST(ArchitectureMap, Phi3SplitsQkvWithHeadDimDerivedFromHiddenSize) {
  // head_dim = 3072 / 32 = 96; q = 32 * 96 = 3072 rows, k = v = 8 * 96 = 768 rows.
  const std::uint64_t shape[] = {4608, 3072};
  const std::vector<tensor_view> views =
      family("phi3").map("model.layers.5.self_attn.qkv_proj.weight", shape, phi3_mini_config);
  ASSERT_EQ(views.size(), 3U);
  EXPECT_EQ(views[0].key, (tensor_key{5, "self_attn.q_proj.weight", -1}));
  EXPECT_EQ(views[1].key, (tensor_key{5, "self_attn.k_proj.weight", -1}));
  EXPECT_EQ(views[2].key, (tensor_key{5, "self_attn.v_proj.weight", -1}));
  EXPECT_EQ(views[0].label, "model.layers.5.self_attn.qkv_proj.weight[q_proj]");
  EXPECT_EQ(views[1].label, "model.layers.5.self_attn.qkv_proj.weight[k_proj]");
  EXPECT_EQ(views[2].label, "model.layers.5.self_attn.qkv_proj.weight[v_proj]");
  EXPECT_EQ(views[0].row_begin, 0U);
  EXPECT_EQ(views[0].row_end, 3072U);
  EXPECT_EQ(views[1].row_begin, 3072U);
  EXPECT_EQ(views[1].row_end, 3840U);
  EXPECT_EQ(views[2].row_begin, 3840U);
  EXPECT_EQ(views[2].row_end, 4608U);
  for (const tensor_view& view : views) {
    EXPECT_FALSE(view.whole(shape));
  }
  EXPECT_EQ(views[1].key, key_of(family("llama"), "model.layers.5.self_attn.k_proj.weight"));
}

TEST(ArchitectureMap, Phi3SplitsGateUpAndKeepsTheRestWhole) {
  const std::uint64_t shape[] = {16384, 3072};
  const std::vector<tensor_view> views =
      family("phi3").map("model.layers.0.mlp.gate_up_proj.weight", shape, phi3_mini_config);
  ASSERT_EQ(views.size(), 2U);
  EXPECT_EQ(views[0].key, (tensor_key{0, "mlp.gate_proj.weight", -1}));
  EXPECT_EQ(views[1].key, (tensor_key{0, "mlp.up_proj.weight", -1}));
  EXPECT_EQ(views[0].row_end, 8192U);
  EXPECT_EQ(views[1].row_begin, 8192U);
  EXPECT_EQ(views[1].row_end, 16384U);
  EXPECT_EQ(views[1].label, "model.layers.0.mlp.gate_up_proj.weight[up_proj]");
  expect_keys("phi3", phi3_mini_config,
              {{"model.layers.0.mlp.down_proj.weight", {0, "mlp.down_proj.weight", -1}},
               {"model.layers.0.self_attn.o_proj.weight", {0, "self_attn.o_proj.weight", -1}},
               {"model.embed_tokens.weight", {-1, "embed_tokens.weight", -1}}});
}

TEST(ArchitectureMap, Phi3PrefersHeadDimFromConfig) {
  json config = phi3_mini_config;
  config["head_dim"] = 64;  // 32 * 64 + 2 * 8 * 64 = 3072 rows
  const std::uint64_t shape[] = {3072, 3072};
  const std::vector<tensor_view> views = family("phi3").map("model.layers.0.self_attn.qkv_proj.weight", shape, config);
  ASSERT_EQ(views.size(), 3U);
  EXPECT_EQ(views[0].row_end, 2048U);
  EXPECT_EQ(views[2].row_end, 3072U);
  // Without num_key_value_heads, transformers uses num_attention_heads: q = k = v = 3072 rows.
  json no_kv_heads = phi3_mini_config;
  no_kv_heads.erase("num_key_value_heads");
  const std::uint64_t mha_shape[] = {9216, 3072};
  EXPECT_EQ(family("phi3").map("model.layers.0.self_attn.qkv_proj.weight", mha_shape, no_kv_heads).at(1).row_end, 6144U);
}

TEST(ArchitectureMap, Phi3SplitThatDoesNotAddUpThrows) {
  const std::uint64_t shape[] = {5000, 3072};
  const std::string message = input_error_message(
      [&] { (void)family("phi3").map("model.layers.5.self_attn.qkv_proj.weight", shape, phi3_mini_config); });
  expect_mentions(message, {"model.layers.5.self_attn.qkv_proj.weight", "4608", "5000", "num_key_value_heads * head_dim"});
}

// Issue 18, defect 1: 130 + 2 * (2^63 - 1) wraps to 128 in 64 bits, so the parts "added up" to a
// shape[0] of 128 and a view of about 2^63 rows was planned.
TEST(ArchitectureMap, Phi3SplitWhosePartsWrapAroundIsRefused) {
  const json hostile = {{"model_type", "phi3"},
                        {"hidden_size", 130},
                        {"num_attention_heads", 130},
                        {"num_key_value_heads", 9223372036854775807LL},
                        {"head_dim", 1},
                        {"intermediate_size", 8},
                        {"num_hidden_layers", 1}};
  const std::uint64_t shape[] = {128, 130};
  expect_mentions(input_error_message(
                      [&] { (void)family("phi3").map("model.layers.0.self_attn.qkv_proj.weight", shape, hostile); }),
                  {"model.layers.0.self_attn.qkv_proj.weight", "q_proj", "does not fit", "128"});
  // With a shape[0] that holds q and k, v's rows overflow the sum: refused, not wrapped.
  const std::uint64_t huge[] = {(std::uint64_t{1} << 63) + 200, 130};
  expect_mentions(input_error_message(
                      [&] { (void)family("phi3").map("model.layers.0.self_attn.qkv_proj.weight", huge, hostile); }),
                  {"v_proj", "9223372036854775807", "does not fit"});
}

TEST(ArchitectureMap, Phi3SplitNamesAMissingOrInvalidConfigKey) {
  const std::uint64_t shape[] = {16384, 3072};
  json missing = phi3_mini_config;
  missing.erase("intermediate_size");
  expect_mentions(input_error_message(
                      [&] { (void)family("phi3").map("model.layers.1.mlp.gate_up_proj.weight", shape, missing); }),
                  {"model.layers.1.mlp.gate_up_proj.weight", "intermediate_size"});
  for (const json& bad_value : {json("8192"), json(0), json(-8192), json(8192.5), json(true)}) {
    json invalid = phi3_mini_config;
    invalid["intermediate_size"] = bad_value;
    expect_mentions(input_error_message(
                        [&] { (void)family("phi3").map("model.layers.1.mlp.gate_up_proj.weight", shape, invalid); }),
                    {"model.layers.1.mlp.gate_up_proj.weight", "intermediate_size", "positive integer"});
  }
  json inexact = phi3_mini_config;
  inexact["hidden_size"] = 3000;  // 3000 / 32 is not whole
  const std::uint64_t qkv_shape[] = {4608, 3072};
  expect_mentions(input_error_message(
                      [&] { (void)family("phi3").map("model.layers.1.self_attn.qkv_proj.weight", qkv_shape, inexact); }),
                  {"model.layers.1.self_attn.qkv_proj.weight", "hidden_size / num_attention_heads"});
}

// --- the generic fallback -------------------------------------------------------------------

TEST(ArchitectureGeneric, FirstNumericComponentIsTheLayer) {
  const std::uint64_t shape[] = {64, 32};
  const tensor_view view = map_generic("encoder.block.3.layer.0.SelfAttention.q.weight", shape);
  EXPECT_EQ(view.key, (tensor_key{3, "encoder.block.*.layer.0.SelfAttention.q.weight", -1}));
  EXPECT_EQ(view.label, "encoder.block.3.layer.0.SelfAttention.q.weight");
  EXPECT_TRUE(view.whole(shape));
  EXPECT_EQ(view.row_end, 64U);

  EXPECT_EQ(map_generic("shared.weight", shape).key, (tensor_key{-1, "shared.weight", -1}));
  EXPECT_EQ(map_generic("block3.w", shape).key, (tensor_key{-1, "block3.w", -1}));
  EXPECT_EQ(map_generic("layers.99999999999.w", shape).key.layer, -1);  // does not fit an int
  const std::uint64_t scalar_shape[] = {1};
  EXPECT_EQ(map_generic("logit_scale", std::span<const std::uint64_t>{}).row_end, 1U);
  EXPECT_TRUE(map_generic("logit_scale", std::span<const std::uint64_t>{}).whole({}));
  EXPECT_TRUE(map_generic("logit_scale", scalar_shape).whole(scalar_shape));
}

TEST(ArchitectureGeneric, IdenticalNamesPairAndUnknownExtrasFallBack) {
  const std::uint64_t shape[] = {8};
  EXPECT_EQ(map_generic("model.layers.4.foo.weight", shape).key, map_generic("model.layers.4.foo.weight", shape).key);
  EXPECT_NE(map_generic("model.layers.4.foo.weight", shape).key, map_generic("model.layers.5.foo.weight", shape).key);
  // A name the llama rules do not know gets the generic key, not an error.
  for (const char* name : {"model.layers.4.self_attn.rotary_emb.inv_freq", "model.layers.x.input_layernorm.weight",
                           "model_layers.4.input_layernorm.weight", "model.layers.4.input_layernorm.weight.extra"}) {
    EXPECT_EQ(key_of(family("llama"), name), map_generic(name, shape).key) << name;
  }
}

}  // namespace
}  // namespace lineage
