// lineage synth: rescale-norms (positive factors moved from each RMSNorm weight into the linear
// layers that read it) and extend-vocab (new embedding and lm_head rows after the old ones), on
// dense Llama and glm4_moe parents. The function checks are in test_synth_function.cpp.
#include <gtest/gtest.h>

#include <cmath>

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

std::filesystem::path make_parent(const model_shape& shape, lineage::dtype type,
                                  const std::string& label) {
  const auto dir = scratch_dir(label);
  write_independent_model(shape, 23, dir, {type, 1});
  return dir;
}

derivation kind(derivation_kind k, std::uint64_t seed = 3) { return derivation_of(k, seed); }


nlohmann::json provenance_of(const std::filesystem::path& dir) {
  return read_json(dir / "config.json").at("lineage_synth");
}

std::string in_layer(std::uint64_t layer, const std::string& suffix) {
  return "model.layers." + std::to_string(layer) + "." + suffix;
}

// --- rescale-norms ------------------------------------------------------------------------------

// The factors s = child / parent of one norm: positive, spread like exp(X z).
std::vector<double> implied_factors(const model_tensors& parent, const model_tensors& child,
                                    const std::string& norm, double scale) {
  const auto before = values_of(parent.at(norm));
  const auto after = values_of(child.at(norm));
  std::vector<double> factors(before.size());
  double sum = 0, sum_of_squares = 0;
  for (std::size_t i = 0; i < before.size(); ++i) {
    factors[i] = after[i] / before[i];
    EXPECT_GT(factors[i], 0.0) << norm;
    const double log_factor = std::log(factors[i]);
    sum += log_factor;
    sum_of_squares += log_factor * log_factor;
  }
  const double n = static_cast<double>(factors.size());
  const double spread = std::sqrt(sum_of_squares / n - (sum / n) * (sum / n));
  EXPECT_GT(spread, 0.5 * scale) << norm;
  EXPECT_LT(spread, 1.6 * scale) << norm;
  return factors;
}

// child * s == parent for the columns [first, first + |s|) of a reader, to F32 rounding.
void expect_columns_divided(const model_tensors& parent, const model_tensors& child,
                            const std::string& reader, const std::vector<double>& factors,
                            std::size_t first = 0) {
  const auto before = values_of(parent.at(reader));
  const auto after = values_of(child.at(reader));
  ASSERT_EQ(child.at(reader).shape, parent.at(reader).shape) << reader;
  const std::size_t columns = parent.at(reader).shape.at(1);
  double largest = 0;
  for (std::size_t r = 0; r < before.size() / columns; ++r)
    for (std::size_t i = 0; i < factors.size(); ++i) {
      const std::size_t at = r * columns + first + i;
      largest = std::max(largest, std::abs(after[at] * factors[i] - before[at]) /
                                      std::max(std::abs(before[at]), 1e-30));
    }
  EXPECT_LT(largest, 1e-6) << reader << " columns " << first << ".. are not divided by the norm's "
                           << "factors";
}

TEST(SynthRescale, DenseNormsMoveTheirFactorsIntoTheLayersThatReadThem) {
  const auto parent_dir = make_parent(dense_test_shape(), lineage::dtype::f32, "parent");
  const auto child_dir = derive(parent_dir, kind(derivation_kind::rescale_norms), "child");
  const auto parent = read_model(parent_dir);
  const auto child = read_model(child_dir);
  for (std::uint64_t layer = 0; layer < 2; ++layer) {
    const auto input =
        implied_factors(parent, child, in_layer(layer, "input_layernorm.weight"), 0.5);
    for (const char* reader : {"q_proj", "k_proj", "v_proj"})
      expect_columns_divided(
          parent, child, in_layer(layer, std::string("self_attn.") + reader + ".weight"), input);
    const auto post =
        implied_factors(parent, child, in_layer(layer, "post_attention_layernorm.weight"), 0.5);
    for (const char* reader : {"mlp.gate_proj.weight", "mlp.up_proj.weight"})
      expect_columns_divided(parent, child, in_layer(layer, reader), post);
    EXPECT_NE(input, post) << "each norm draws its own factors";
  }
  expect_columns_divided(parent, child, "lm_head.weight",
                         implied_factors(parent, child, "model.norm.weight", 0.5));
  for (const auto& [name, tensor] : parent)
    if (name.find("o_proj") != std::string::npos || name.find("down_proj") != std::string::npos ||
        name == "model.embed_tokens.weight") {
      EXPECT_EQ(child.at(name).bytes, tensor.bytes) << name << " should be untouched";
    }
  const auto provenance = provenance_of(child_dir);
  EXPECT_EQ(provenance.at("kind"), "rescale-norms");
  EXPECT_EQ(provenance.at("seed"), 3);
  EXPECT_EQ(provenance.at("norm_rescaling").at("scale"), 0.5);
  EXPECT_EQ(provenance.at("norm_rescaling").at("norms").size(), 5u);
}

TEST(SynthRescale, MoeRoutersExpertsSharedExpertAndMtpBlockFollowTheirNorms) {
  const auto parent_dir = make_parent(moe_test_shape(4, 1), lineage::dtype::f32, "parent");
  auto how = kind(derivation_kind::rescale_norms);
  how.scale = 0.3;
  const auto child_dir = derive(parent_dir, how, "child");
  const auto parent = read_model(parent_dir);
  const auto child = read_model(child_dir);
  for (const std::uint64_t layer : {1u, 2u, 3u}) {
    const auto post =
        implied_factors(parent, child, in_layer(layer, "post_attention_layernorm.weight"), 0.3);
    expect_columns_divided(parent, child, in_layer(layer, "mlp.gate.weight"), post);
    for (const char* mlp : {"mlp.experts.0.", "mlp.experts.3.", "mlp.shared_experts."})
      for (const char* reader : {"gate_proj.weight", "up_proj.weight"})
        expect_columns_divided(parent, child, in_layer(layer, std::string(mlp) + reader), post);
    EXPECT_EQ(child.at(in_layer(layer, "mlp.gate.e_score_correction_bias")).bytes,
              parent.at(in_layer(layer, "mlp.gate.e_score_correction_bias")).bytes);
    const auto input =
        implied_factors(parent, child, in_layer(layer, "input_layernorm.weight"), 0.3);
    expect_columns_divided(parent, child, in_layer(layer, "self_attn.q_proj.weight"), input);
    EXPECT_EQ(child.at(in_layer(layer, "self_attn.q_proj.bias")).bytes,
              parent.at(in_layer(layer, "self_attn.q_proj.bias")).bytes);
  }
  // The MTP block: eh_proj reads [enorm(embedding); hnorm(hidden)], one half per norm; its
  // shared_head.norm and the final norm both feed lm_head, so they share one set of factors.
  const auto enorm = implied_factors(parent, child, in_layer(3, "enorm.weight"), 0.3);
  const auto hnorm = implied_factors(parent, child, in_layer(3, "hnorm.weight"), 0.3);
  expect_columns_divided(parent, child, in_layer(3, "eh_proj.weight"), enorm, 0);
  expect_columns_divided(parent, child, in_layer(3, "eh_proj.weight"), hnorm, 32);
  const auto final_factors = implied_factors(parent, child, "model.norm.weight", 0.3);
  const auto head_factors =
      implied_factors(parent, child, in_layer(3, "shared_head.norm.weight"), 0.3);
  for (std::size_t i = 0; i < final_factors.size(); ++i)
    EXPECT_NEAR(head_factors[i], final_factors[i], 1e-6 * final_factors[i]) << i;
  expect_columns_divided(parent, child, "lm_head.weight", final_factors);
  EXPECT_EQ(provenance_of(child_dir).at("norm_rescaling").at("scale"), 0.3);
}

TEST(SynthRescale, TiedEmbeddingsKeepTheFinalNormAndBf16Stays) {
  auto shape = dense_test_shape();
  shape.tie_embeddings = true;
  const auto parent_dir = make_parent(shape, lineage::dtype::bf16, "parent");
  const auto child_dir = derive(parent_dir, kind(derivation_kind::rescale_norms), "child");
  const auto parent = read_model(parent_dir);
  const auto child = read_model(child_dir);
  // lm_head is embed_tokens, read before any norm: its columns may not change.
  EXPECT_EQ(child.at("model.norm.weight").bytes, parent.at("model.norm.weight").bytes);
  EXPECT_EQ(child.at("model.embed_tokens.weight").bytes,
            parent.at("model.embed_tokens.weight").bytes);
  EXPECT_NE(child.at("model.layers.0.input_layernorm.weight").bytes,
            parent.at("model.layers.0.input_layernorm.weight").bytes);
  EXPECT_EQ(child.at("model.layers.0.self_attn.q_proj.weight").dtype, "BF16");
  EXPECT_EQ(provenance_of(child_dir).at("norm_rescaling").at("norms").size(), 4u);
}

TEST(SynthRescale, RejectsBadScalesAndOptionsOfOtherKinds) {
  const auto parent = make_parent(dense_test_shape(), lineage::dtype::bf16, "parent");
  const auto out = scratch_dir("rejected");
  for (const double bad : {-0.1, std::nan(""), HUGE_VAL}) {
    auto how = kind(derivation_kind::rescale_norms);
    how.scale = bad;
    EXPECT_THROW(write_derived_model(parent, out, how), lineage::usage_error) << bad;
  }
  auto tokens = kind(derivation_kind::rescale_norms);
  tokens.tokens = 3;
  EXPECT_THROW(write_derived_model(parent, out, tokens), lineage::usage_error);
  auto noise = kind(derivation_kind::rescale_norms);
  noise.noise = 0.1;
  EXPECT_THROW(write_derived_model(parent, out, noise), lineage::usage_error);
}

// --- extend-vocab -------------------------------------------------------------------------------

double row_rms(const std::vector<double>& values, std::size_t first, std::size_t count) {
  double sum = 0;
  for (std::size_t i = first; i < first + count; ++i) sum += values[i] * values[i];
  return std::sqrt(sum / static_cast<double>(count));
}

void expect_rows_appended(const raw_tensor& parent, const raw_tensor& child, std::uint64_t added,
                          const std::string& name) {
  ASSERT_EQ(child.shape, (std::vector<std::uint64_t>{parent.shape[0] + added, parent.shape[1]}))
      << name;
  EXPECT_EQ(child.dtype, parent.dtype) << name;
  EXPECT_EQ(child.bytes.substr(0, parent.bytes.size()), parent.bytes)
      << name << ": the old rows must stay bit for bit";
  const auto old_values = values_of(parent);
  const auto new_values = values_of(child);
  const double old_rms = row_rms(old_values, 0, old_values.size());
  const double new_rms =
      row_rms(new_values, old_values.size(), new_values.size() - old_values.size());
  EXPECT_GT(new_rms, 0.6 * old_rms) << name << ": new rows drawn like the old ones";
  EXPECT_LT(new_rms, 1.6 * old_rms) << name;
}

TEST(SynthVocab, ExtendAppendsRowsAndKeepsTheOldOnesBitForBit) {
  const auto parent_dir = make_parent(dense_test_shape(), lineage::dtype::bf16, "parent");
  auto how = kind(derivation_kind::extend_vocab);
  how.tokens = 40;
  const auto child_dir = derive(parent_dir, how, "child");
  const auto parent = read_model(parent_dir);
  const auto child = read_model(child_dir);
  for (const char* name : {"model.embed_tokens.weight", "lm_head.weight"})
    expect_rows_appended(parent.at(name), child.at(name), 40, name);
  EXPECT_NE(
      child.at("model.embed_tokens.weight").bytes.substr(parent.at("lm_head.weight").bytes.size()),
      child.at("lm_head.weight").bytes.substr(parent.at("lm_head.weight").bytes.size()));
  ASSERT_EQ(child.size(), parent.size());
  for (const auto& [name, tensor] : parent)
    if (name.find("layers.") != std::string::npos || name == "model.norm.weight") {
      EXPECT_EQ(child.at(name).bytes, tensor.bytes) << name;
    }
  const auto config = read_json(child_dir / "config.json");
  EXPECT_EQ(config.at("vocab_size"), 104);
  EXPECT_EQ(config.at("lineage_synth").at("kind"), "extend-vocab");
  EXPECT_EQ(config.at("lineage_synth").at("vocab_extension"),
            nlohmann::json({{"old", 64}, {"new", 104}}));
  EXPECT_EQ(config.at("lineage_synth").at("seed"), 3);
}

TEST(SynthVocab, ExtendWorksOnTiedAndMoeModelsAndChains) {
  auto tied_shape = dense_test_shape();
  tied_shape.tie_embeddings = true;
  const auto tied = make_parent(tied_shape, lineage::dtype::f32, "tied");
  auto how = kind(derivation_kind::extend_vocab);
  how.tokens = 3;
  const auto tied_child = derive(tied, how, "tied-child");
  expect_rows_appended(read_model(tied).at("model.embed_tokens.weight"),
                       read_model(tied_child).at("model.embed_tokens.weight"), 3, "tied");
  EXPECT_FALSE(read_model(tied_child).count("lm_head.weight"));

  const auto moe = make_parent(moe_test_shape(4, 1), lineage::dtype::bf16, "moe");
  const auto moe_child = derive(moe, how, "moe-child");
  expect_rows_appended(read_model(moe).at("lm_head.weight"),
                       read_model(moe_child).at("lm_head.weight"), 3, "moe lm_head");
  // Twice: 64 -> 67 -> 70, the second extension keeping the first's rows.
  const auto twice = derive(moe_child, how, "twice");
  expect_rows_appended(read_model(moe_child).at("model.embed_tokens.weight"),
                       read_model(twice).at("model.embed_tokens.weight"), 3, "twice");
  EXPECT_EQ(read_json(twice / "config.json").at("lineage_synth").at("vocab_extension"),
            nlohmann::json({{"old", 67}, {"new", 70}}));
}

TEST(SynthVocab, RejectsMissingOrZeroTokensAndTokensWithOtherKinds) {
  const auto parent = make_parent(dense_test_shape(), lineage::dtype::bf16, "parent");
  const auto out = scratch_dir("rejected");
  EXPECT_THROW(write_derived_model(parent, out, kind(derivation_kind::extend_vocab)),
               lineage::usage_error);
  auto zero = kind(derivation_kind::extend_vocab);
  zero.tokens = 0;
  EXPECT_THROW(write_derived_model(parent, out, zero), lineage::usage_error);
  for (const auto other : {derivation_kind::copy, derivation_kind::drift,
                           derivation_kind::permute_hidden, derivation_kind::upcycle}) {
    auto how = kind(other);
    how.tokens = 4;
    how.expert_count = 2;  // so that upcycle fails on --tokens, not on a missing --experts
    if (other != derivation_kind::upcycle) how.expert_count.reset();
    try {
      write_derived_model(parent, out, how);
      ADD_FAILURE() << "--tokens accepted";
    } catch (const lineage::usage_error& e) {
      EXPECT_NE(std::string(e.what()).find("--tokens"), std::string::npos) << e.what();
    }
  }
  auto scaled = kind(derivation_kind::extend_vocab);
  scaled.tokens = 2;
  scaled.scale = 0.1;
  EXPECT_THROW(write_derived_model(parent, out, scaled), lineage::usage_error);
}

TEST(SynthCli, RescaleAndExtendRunFromTheCommandLine) {
  const auto parent = make_parent(dense_test_shape(), lineage::dtype::bf16, "parent");
  const auto rescaled = scratch_dir("rescaled");
  EXPECT_EQ(run_cli({"synth", "derive", "--from", parent.string(), "-o", rescaled.string(),
                     "--kind", "rescale-norms", "--scale", "0.25", "--seed", "4"}),
            0);
  EXPECT_EQ(provenance_of(rescaled).at("norm_rescaling").at("scale"), 0.25);
  EXPECT_EQ(provenance_of(rescaled).at("seed"), 4);
  const auto extended = scratch_dir("extended");
  EXPECT_EQ(run_cli({"synth", "derive", "--from", parent.string(), "-o", extended.string(),
                     "--kind", "extend-vocab", "--tokens", "6", "--shards", "2"}),
            0);
  EXPECT_EQ(read_json(extended / "config.json").at("vocab_size"), 70);
  EXPECT_EQ(read_model(extended).at("lm_head.weight").shape[0], 70u);
  EXPECT_THROW(run_cli({"synth", "derive", "--from", parent.string(), "-o",
                        scratch_dir("bad").string(), "--kind", "extend-vocab"}),
               lineage::usage_error);
  EXPECT_THROW(run_cli({"synth", "derive", "--from", parent.string(), "-o",
                        scratch_dir("bad").string(), "--kind", "copy", "--tokens", "6"}),
               lineage::usage_error);
}

}  // namespace
