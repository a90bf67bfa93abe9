// lineage synth: the disguising derivations keep the parent's function. A forward pass written in
// the test (test_synth_forward.cpp, double precision, from the decoded values) gives the same
// logits for parent and child: dense Llama, glm4_moe with experts, shared expert and MTP block,
// and the Mixtral model upcycled from a dense one.
#include <gtest/gtest.h>

#include "synth/synth.hpp"
#include "test_synth_support.hpp"

namespace {

using namespace synth_test;
using lineage::synth::derivation;
using lineage::synth::derivation_kind;
using lineage::synth::model_shape;
using lineage::synth::write_derived_model;
using lineage::synth::write_independent_model;

const std::vector<std::uint64_t> tokens{3, 17, 42, 5};
constexpr double permuted_tolerance = 1e-5;  // exact values; only the summation order differs
constexpr double rescaled_tolerance = 1e-4;  // F32 rounding of w * s and of a / s

// F32 parents, so that the values the derivations compute are rounded as little as possible.
std::filesystem::path make_parent(const model_shape& shape, const std::string& label) {
  const auto dir = scratch_dir(label);
  write_independent_model(shape, 13, dir, {lineage::dtype::f32, 1});
  return dir;
}

std::filesystem::path dense_parent() { return make_parent(dense_test_shape(), "dense"); }
std::filesystem::path moe_parent() { return make_parent(moe_test_shape(4, 1), "moe"); }

derivation kind(derivation_kind k, std::uint64_t seed = 7) { return derivation_of(k, seed); }


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

}  // namespace
