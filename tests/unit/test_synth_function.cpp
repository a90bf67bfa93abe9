// lineage synth: the disguising derivations keep the parent's function. A forward pass written in
// the test (test_synth_forward.cpp, double precision, from the decoded values) gives the same
// logits for parent and child: dense Llama, glm4_moe with experts, shared expert and MTP block,
// and the Mixtral model upcycled from a dense one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "synth/hidden_rotation.hpp"
#include "synth/synth.hpp"
#include "test_synth_support.hpp"

namespace {

using namespace synth_test;
using lineage::synth::derivation;
using lineage::synth::derivation_kind;
using lineage::synth::hidden_rotation_kind;
using lineage::synth::model_shape;
using lineage::synth::write_derived_model;
using lineage::synth::write_independent_model;

const std::vector<std::uint64_t> tokens{3, 17, 42, 5};
constexpr double permuted_tolerance = 1e-5;  // exact values; only the summation order differs
constexpr double rescaled_tolerance = 1e-4;  // F32 rounding of w * s and of a / s
constexpr double rotated_tolerance = 1e-6;   // products in double, rounded once to F32
constexpr double bf16_tolerance = 2e-2;      // BF16 rounding of every rotated weight

// F32 parents, so that the values the derivations compute are rounded as little as possible.
std::filesystem::path make_parent(const model_shape& shape, const std::string& label) {
  const auto dir = scratch_dir(label);
  write_independent_model(shape, 13, dir, {lineage::dtype::f32, 1});
  return dir;
}

std::filesystem::path dense_parent() { return make_parent(dense_test_shape(), "dense"); }
std::filesystem::path moe_parent() { return make_parent(moe_test_shape(4, 1), "moe"); }

derivation kind(derivation_kind k, std::uint64_t seed = 7) { return derivation_of(k, seed); }

derivation rotated(hidden_rotation_kind rotation, std::uint64_t seed = 7) {
  auto how = kind(derivation_kind::rotate_hidden, seed);
  how.rotation = rotation;
  return how;
}

std::filesystem::path tied_parent() {
  auto shape = dense_test_shape();
  shape.tie_embeddings = true;
  return make_parent(shape, "tied");
}

// A Mixtral model upcycled from `dense` (4 experts with a little noise each).
std::filesystem::path mixtral_parent(const std::filesystem::path& dense) {
  auto how = kind(derivation_kind::upcycle, 3);
  how.expert_count = 4;
  return derive(dense, how, "mixtral");
}

forward_result run(const std::filesystem::path& dir) {
  return forward_pass(read_model(dir), read_json(dir / "config.json"), tokens);
}

// Parent and child give the same logits (and MTP logits, when there is an MTP block), and the
// child's weights differ from the parent's (else the check would be empty).
void expect_same_function(const std::filesystem::path& parent, const std::filesystem::path& child,
                          double tolerance) {
  const auto expected = run(parent);
  const auto got = run(child);
  EXPECT_LT(relative_difference(expected.logits, got.logits), tolerance);
  EXPECT_EQ(expected.mtp_logits.size(), got.mtp_logits.size());
  if (!expected.mtp_logits.empty()) {
    EXPECT_LT(relative_difference(expected.mtp_logits, got.mtp_logits), tolerance) << "MTP block";
  }
  const auto a = read_model(parent);
  const auto b = read_model(child);
  std::size_t changed = 0;
  for (const auto& [name, tensor] : a)
    if (b.count(name) && b.at(name).bytes != tensor.bytes) ++changed;
  EXPECT_GT(changed, 0u) << "the child's weights are the parent's";
}

TEST(SynthFunction, TheForwardPassSeesABrokenPermutation) {
  // A permuted-neuron child whose down_proj is the parent's: the forward pass must notice.
  const auto parent = dense_parent();
  const auto child = derive(parent, kind(derivation_kind::permute_neurons), "child");
  auto broken = read_model(child);
  broken.at("model.layers.1.mlp.down_proj.weight") =
      read_model(parent).at("model.layers.1.mlp.down_proj.weight");
  const auto config = read_json(child / "config.json");
  EXPECT_GT(relative_difference(run(parent).logits, forward_pass(broken, config, tokens).logits),
            1e-3);
}

TEST(SynthFunction, PermutedNeuronsKeepTheLogits) {
  const auto dense = dense_parent();
  expect_same_function(dense, derive(dense, kind(derivation_kind::permute_neurons), "dense-child"),
                       permuted_tolerance);
  const auto moe = moe_parent();
  expect_same_function(moe, derive(moe, kind(derivation_kind::permute_neurons), "moe-child"),
                       permuted_tolerance);
}

TEST(SynthFunction, PermutedHeadsKeepTheLogits) {
  const auto dense = dense_parent();
  expect_same_function(dense, derive(dense, kind(derivation_kind::permute_heads), "dense-child"),
                       permuted_tolerance);
  const auto moe = moe_parent();
  expect_same_function(moe, derive(moe, kind(derivation_kind::permute_heads), "moe-child"),
                       permuted_tolerance);
}

TEST(SynthFunction, PermutedHiddenDimensionKeepsTheLogits) {
  const auto dense = dense_parent();
  expect_same_function(dense, derive(dense, kind(derivation_kind::permute_hidden), "dense-child"),
                       permuted_tolerance);
  const auto moe = moe_parent();
  expect_same_function(moe, derive(moe, kind(derivation_kind::permute_hidden), "moe-child"),
                       permuted_tolerance);
}

TEST(SynthFunction, FlippedHiddenSignsKeepTheLogits) {
  const auto dense = dense_parent();
  expect_same_function(dense, derive(dense, kind(derivation_kind::flip_hidden), "dense-flipped"),
                       permuted_tolerance);
  const auto moe = moe_parent();
  expect_same_function(moe, derive(moe, kind(derivation_kind::flip_hidden), "moe-flipped"), permuted_tolerance);
}

TEST(SynthFunction, AllThreePermutationsTogetherKeepTheLogits) {
  for (const auto& parent : {dense_parent(), moe_parent()}) {
    const auto label = parent.filename().string();
    const auto hidden = derive(parent, kind(derivation_kind::permute_hidden, 1), label + "-hidden");
    const auto heads = derive(hidden, kind(derivation_kind::permute_heads, 2), label + "-heads");
    const auto neurons = derive(heads, kind(derivation_kind::permute_neurons, 3), label + "-all");
    expect_same_function(parent, neurons, permuted_tolerance);
    EXPECT_EQ(
        read_json(neurons / "config.json").at("lineage_synth").at("parent").at("parent").at("kind"),
        "permute-hidden");
  }
}

TEST(SynthFunction, RescaledNormsKeepTheLogits) {
  const auto dense = dense_parent();
  expect_same_function(dense, derive(dense, kind(derivation_kind::rescale_norms), "dense-child"),
                       rescaled_tolerance);
  const auto moe = moe_parent();
  expect_same_function(moe, derive(moe, kind(derivation_kind::rescale_norms), "moe-child"),
                       rescaled_tolerance);
  auto tied_shape = dense_test_shape();
  tied_shape.tie_embeddings = true;
  const auto tied = make_parent(tied_shape, "tied");
  expect_same_function(tied, derive(tied, kind(derivation_kind::rescale_norms), "tied-child"),
                       rescaled_tolerance);
  // A larger spread of factors is no harder (the function is preserved exactly up to rounding).
  auto wide = kind(derivation_kind::rescale_norms);
  wide.scale = 1.5;
  expect_same_function(dense, derive(dense, wide, "wide-child"), rescaled_tolerance);
}

TEST(SynthFunction, ExtendedVocabularyKeepsTheOldTokensLogits) {
  auto tied_shape = dense_test_shape();
  tied_shape.tie_embeddings = true;
  for (const auto& parent : {dense_parent(), moe_parent(), make_parent(tied_shape, "tied")}) {
    auto how = kind(derivation_kind::extend_vocab);
    how.tokens = 9;
    const auto child = derive(parent, how, parent.filename().string() + "-child");
    const auto expected = run(parent);
    auto got = run(child);
    ASSERT_EQ(got.logits.at(0).size(), 64u + 9u);
    for (auto* table : {&got.logits, &got.mtp_logits})
      for (auto& row : *table) row.resize(64);  // the old vocabulary
    EXPECT_LT(relative_difference(expected.logits, got.logits), permuted_tolerance);
    if (!expected.mtp_logits.empty()) {
      EXPECT_LT(relative_difference(expected.mtp_logits, got.mtp_logits), permuted_tolerance);
    }
  }
}

TEST(SynthFunction, UpcycledExpertsWithoutNoiseComputeTheDenseMlp) {
  const auto dense = dense_parent();
  for (const std::uint64_t experts : {1u, 4u}) {
    auto how = kind(derivation_kind::upcycle);
    how.expert_count = experts;
    how.noise = 0.0;
    const auto child = derive(dense, how, "upcycled-" + std::to_string(experts));
    EXPECT_LT(relative_difference(run(dense).logits, run(child).logits), permuted_tolerance)
        << experts << " experts";
  }
  // With the default noise the function moves a little, as after a short fine-tune.
  auto noisy = kind(derivation_kind::upcycle);
  noisy.expert_count = 4;
  const double moved =
      relative_difference(run(dense).logits, run(derive(dense, noisy, "noisy")).logits);
  EXPECT_GT(moved, 1e-6);
  EXPECT_LT(moved, 0.05);
}

// --- fold-norms and rotate-hidden -----------------------------------------------------------

bool is_hidden_norm(const std::string& name) {
  for (const char* suffix : {"input_layernorm.weight", "post_attention_layernorm.weight", "enorm.weight",
                             "hnorm.weight", "shared_head.norm.weight"})
    if (name.size() > std::string(suffix).size() && name.ends_with(suffix)) return true;
  return name == "model.norm.weight";
}

// Every norm over the hidden dimension is exactly 1; returns how many there are.
std::size_t expect_unit_norms(const std::filesystem::path& child) {
  std::size_t norms = 0;
  for (const auto& [name, tensor] : read_model(child)) {
    if (!is_hidden_norm(name)) continue;
    ++norms;
    std::size_t others = 0;
    for (const double value : values_of(tensor)) others += value != 1.0 ? 1 : 0;
    EXPECT_EQ(others, 0u) << name;
  }
  return norms;
}

TEST(SynthFunction, FoldedNormsKeepTheLogitsAndAreOne) {
  const auto dense = dense_parent();
  for (const auto& parent : {dense, moe_parent(), tied_parent(), mixtral_parent(dense)}) {
    const auto label = parent.filename().string();
    const auto child = derive(parent, kind(derivation_kind::fold_norms), label + "-folded");
    expect_same_function(parent, child, rescaled_tolerance);
    EXPECT_GT(expect_unit_norms(child), 0u) << label;
    const auto provenance = read_json(child / "config.json").at("lineage_synth");
    EXPECT_EQ(provenance.at("kind"), "fold-norms");
    EXPECT_TRUE(provenance.at("norm_folding").at("kept").empty()) << label;
  }
  // Tied embeddings are untied: lm_head is the embedding times the final norm.
  const auto tied = derive(tied_parent(), kind(derivation_kind::fold_norms), "tied-untied");
  const auto config = read_json(tied / "config.json");
  EXPECT_EQ(config.at("tie_word_embeddings"), false);
  EXPECT_EQ(config.at("lineage_synth").at("norm_folding").at("added"), nlohmann::json({"lm_head.weight"}));
  // The MTP block scores through a shared_head.head of its own, folded with shared_head.norm.
  const auto moe = derive(moe_parent(), kind(derivation_kind::fold_norms), "moe-own-head");
  EXPECT_EQ(read_model(moe).count("model.layers.3.shared_head.head.weight"), 1u);
}

TEST(SynthFunction, RotatedHiddenKeepsTheLogits) {
  const auto dense = dense_parent();
  for (const auto& parent : {dense, moe_parent(), tied_parent(), mixtral_parent(dense)})
    for (const auto rotation : {hidden_rotation_kind::orthogonal, hidden_rotation_kind::hadamard}) {
      const auto label = parent.filename().string() + "-" + std::string(lineage::synth::hidden_rotation_name(rotation));
      const auto child = derive(parent, rotated(rotation), label);
      expect_same_function(parent, child, rotated_tolerance);
      EXPECT_GT(expect_unit_norms(child), 0u) << label;
      EXPECT_EQ(read_json(child / "config.json").at("lineage_synth").at("hidden_rotation").at("rotation"),
                std::string(lineage::synth::hidden_rotation_name(rotation)));
    }
}

TEST(SynthFunction, RotatedWeightsAreNotElementAlignedWithTheParents) {
  const auto parent = dense_parent();
  for (const auto rotation : {hidden_rotation_kind::orthogonal, hidden_rotation_kind::hadamard}) {
    const auto child = derive(parent, rotated(rotation), std::string(lineage::synth::hidden_rotation_name(rotation)));
    const auto a = read_model(parent);
    const auto b = read_model(child);
    for (const char* name :
         {"model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.up_proj.weight",
          "model.layers.1.mlp.down_proj.weight", "model.layers.0.self_attn.o_proj.weight", "lm_head.weight"})
      EXPECT_LT(std::abs(pearson(values_of(a.at(name)), values_of(b.at(name)))), 0.2) << name;
    EXPECT_LT(relative_difference(run(parent).logits, run(child).logits), rotated_tolerance);
  }
}

TEST(SynthFunction, RotatedBf16ParentsKeepTheLogitsUpToRounding) {
  const auto dir = scratch_dir("bf16");
  write_independent_model(moe_test_shape(4, 1), 13, dir, {});
  for (const auto rotation : {hidden_rotation_kind::orthogonal, hidden_rotation_kind::hadamard}) {
    const auto child = derive(dir, rotated(rotation), std::string(lineage::synth::hidden_rotation_name(rotation)));
    EXPECT_EQ(read_model(child).at("model.layers.0.self_attn.q_proj.weight").dtype, "BF16");
    expect_same_function(dir, child, bf16_tolerance);
  }
}

TEST(SynthFunction, RotationsChainWithTheOtherDisguises) {
  const auto parent = moe_parent();
  const auto rotation = derive(parent, rotated(hidden_rotation_kind::orthogonal), "rotated");
  auto rescale = kind(derivation_kind::rescale_norms, 2);
  const auto rescaled = derive(rotation, rescale, "rescaled");
  const auto permuted = derive(rescaled, kind(derivation_kind::permute_hidden, 3), "permuted");
  const auto again = derive(permuted, rotated(hidden_rotation_kind::hadamard, 4), "again");
  expect_same_function(parent, again, rotated_tolerance);
  auto extend = kind(derivation_kind::extend_vocab, 5);
  extend.tokens = 3;
  const auto extended = derive(again, extend, "extended");
  EXPECT_EQ(read_model(extended).at("model.layers.3.shared_head.head.weight").shape[0], 64u + 3u);
}

TEST(SynthFunction, HadamardNeedsAPowerOfTwoHiddenSize) {
  auto shape = dense_test_shape();
  shape.hidden = 48;
  const auto parent = make_parent(shape, "hidden-48");
  try {
    derive(parent, rotated(hidden_rotation_kind::hadamard), "hadamard");
    ADD_FAILURE() << "no usage_error";
  } catch (const lineage::usage_error& error) {
    EXPECT_NE(std::string(error.what()).find("48"), std::string::npos) << error.what();
  }
  expect_same_function(parent, derive(parent, rotated(hidden_rotation_kind::orthogonal), "orthogonal"),
                       rotated_tolerance);
}

TEST(SynthFunction, RotationMatricesAreOrthogonalAndFollowTheSeed) {
  using lineage::synth::make_rotation;
  constexpr std::uint64_t n = 16;
  for (const auto rotation : {hidden_rotation_kind::orthogonal, hidden_rotation_kind::hadamard}) {
    const auto q = make_rotation(rotation, 3, n);
    double worst = 0;
    for (std::uint64_t i = 0; i < n; ++i)
      for (std::uint64_t j = 0; j < n; ++j) {
        double product = 0;
        for (std::uint64_t k = 0; k < n; ++k) product += q.row(i)[k] * q.row(j)[k];
        worst = std::max(worst, std::abs(product - (i == j ? 1.0 : 0.0)));
      }
    EXPECT_LT(worst, 1e-12);
    const auto again = make_rotation(rotation, 3, n), other = make_rotation(rotation, 4, n);
    std::size_t same_seed_differs = 0, other_seed_differs = 0, off_hadamard = 0;
    for (std::uint64_t i = 0; i < n; ++i)
      for (std::uint64_t j = 0; j < n; ++j) {
        same_seed_differs += q.row(i)[j] != again.row(i)[j] ? 1 : 0;
        other_seed_differs += q.row(i)[j] != other.row(i)[j] ? 1 : 0;
        off_hadamard += std::abs(q.row(i)[j]) != 0.25 ? 1 : 0;  // 1 / sqrt(16)
      }
    EXPECT_EQ(same_seed_differs, 0u);
    EXPECT_GT(other_seed_differs, 0u);
    if (rotation == hidden_rotation_kind::hadamard) {
      EXPECT_EQ(off_hadamard, 0u);
    }
  }
  // Haar: E[trace Q] = 0 and Var = 1; Gram-Schmidt without R's positive diagonal would not be.
  double traces = 0;
  constexpr int seeds = 64;
  for (int seed = 0; seed < seeds; ++seed) {
    const auto q = make_rotation(hidden_rotation_kind::orthogonal, static_cast<std::uint64_t>(seed), n);
    for (std::uint64_t i = 0; i < n; ++i) traces += q.row(i)[i];
  }
  EXPECT_LT(std::abs(traces / seeds), 0.5);
}

TEST(SynthFunction, RotationOptionsFitOnlyTheirKind) {
  const auto parent = dense_parent();
  auto folded = kind(derivation_kind::fold_norms);
  folded.rotation = hidden_rotation_kind::hadamard;
  EXPECT_THROW(derive(parent, folded, "folded"), lineage::usage_error);
  auto scaled = rotated(hidden_rotation_kind::orthogonal);
  scaled.scale = 0.5;
  EXPECT_THROW(derive(parent, scaled, "scaled"), lineage::usage_error);
  const auto child = scratch_dir("cli");
  EXPECT_EQ(run_cli({"synth", "derive", "--from", parent.string(), "-o", child.string(), "--kind", "rotate-hidden",
                     "--rotation", "hadamard", "--seed", "5"}),
            0);
  const auto provenance = read_json(child / "config.json").at("lineage_synth");
  EXPECT_EQ(provenance.at("kind"), "rotate-hidden");
  EXPECT_EQ(provenance.at("seed"), 5);
  EXPECT_EQ(provenance.at("hidden_rotation").at("rotation"), "hadamard");
  EXPECT_THROW(run_cli({"synth", "derive", "--from", parent.string(), "-o", child.string(), "--kind", "fold-norms",
                        "--rotation", "orthogonal"}),
               lineage::usage_error);
  EXPECT_EQ(run_cli({"synth", "derive", "--from", parent.string(), "-o", child.string(), "--kind", "fold-norms"}), 0);
  EXPECT_EQ(read_json(child / "config.json").at("lineage_synth").at("kind"), "fold-norms");
}

}  // namespace
