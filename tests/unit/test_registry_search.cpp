// One member's evidence and the search across members, on fingerprints made in memory: the unit
// p-values of independent fingerprints are uniform (the nulls are exact), a fine-tuned copy and a
// copy whose residual stream was permuted are found at the floor of the deep draws, and the search
// ranks the ancestor first, corrects across members with Holm's method and reads the registry's own
// null beside the symmetry null.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "reduce/probability.hpp"
#include "registry/layer_alignment.hpp"
#include "registry/search.hpp"
#include "registry_test_support.hpp"

namespace lineage {
namespace {

using testing::hidden_permuted;
using testing::random_fingerprint;
using testing::with_noise;

search_options quick() {
  search_options o;
  o.draws = 199;
  o.deep_draws = 1999;
  return o;
}

// Under independence every unit's p is uniform: 60 pairs × 5 units, checked by Kolmogorov–Smirnov
// and by the share at or below 0.1 (expected 0.1 ± 0.017 per sd).
TEST(MemberEvidence, IndependentFingerprintsGiveUniformUnitPValues) {
  const search_options options = quick();
  search_draws draws(options);
  std::vector<double> p;
  std::vector<double> member_p;
  for (std::uint64_t pair = 0; pair < 60; ++pair) {
    const member_evidence e = test_member(random_fingerprint(100 + pair), random_fingerprint(500 + pair), draws);
    ASSERT_EQ(e.units.size(), 5u) << e.note;
    for (const unit_evidence& u : e.units) p.push_back(u.p);
    member_p.push_back(e.p);
  }
  const double low = static_cast<double>(std::count_if(p.begin(), p.end(), [](double x) { return x <= 0.1; })) /
                     static_cast<double>(p.size());
  EXPECT_GT(low, 0.05);
  EXPECT_LT(low, 0.15);
  EXPECT_GT(kolmogorov_smirnov_uniform(p).p, 0.001);
  EXPECT_GT(kolmogorov_smirnov_uniform(member_p).p, 0.001);
}

TEST(MemberEvidence, FineTunedCopyReachesTheDeepFloor) {
  search_draws draws(quick());
  const model_fingerprint a = random_fingerprint(1);
  const member_evidence e = test_member(with_noise(a, 0.5, 2), a, draws);
  ASSERT_EQ(e.units.size(), 5u);
  for (const unit_evidence& u : e.units) {
    if (u.family == "heads") continue;  // 4! · 2!⁴ = 384 head orders: the identity recurs among 1999 draws
    EXPECT_EQ(u.draws, 1999u) << u.family << " " << u.label;
    EXPECT_DOUBLE_EQ(u.p, 1.0 / 2000) << u.family << " " << u.label;
    EXPECT_GT(u.z, 5);
  }
  EXPECT_LT(e.p, 1e-10);
  EXPECT_FALSE(e.same_bytes);
}

// Token rows see nothing once the residual stream is permuted; the attention sketches, read in the
// token frame, still see the copy.
TEST(MemberEvidence, PermutedResidualStreamIsSeenByTheAttentionUnits) {
  search_draws draws(quick());
  const model_fingerprint a = random_fingerprint(3);
  const member_evidence e = test_member(hidden_permuted(with_noise(a, 0.3, 4), 5), a, draws);
  for (const unit_evidence& u : e.units) {
    if (u.family == "token rows") {
      EXPECT_GT(u.p, 0.001);
    } else if (u.family == "values") {
      EXPECT_LT(u.p, 0.001);
    }
  }
  EXPECT_LT(e.p, 1e-6);
}

TEST(MemberEvidence, UnpairableFingerprintsSayWhy) {
  search_draws draws(quick());
  model_fingerprint a = random_fingerprint(6), b = random_fingerprint(7);
  b.token_keys = "ids";
  const member_evidence e = test_member(a, b, draws);
  EXPECT_TRUE(e.units.empty());
  EXPECT_EQ(e.p, 1);
  EXPECT_NE(e.note.find("nothing to pair"), std::string::npos);
}

TEST(Search, AncestorFirstHolmAdjustedAndReadAgainstTheRegistry) {
  std::vector<loaded_member> members;
  for (std::uint64_t seed = 10; seed < 22; ++seed) {
    model_fingerprint f = random_fingerprint(seed);
    members.push_back({{f.name, f.name + ".fingerprint.h5", std::string(64, 'a'), checkpoint_digest(f.files), ""}, f});
  }
  const model_fingerprint query = with_noise(members[4].fingerprint, 0.5, 99);
  const search_result r = search_registry(query, members, quick());
  ASSERT_EQ(r.candidates.size(), 12u);
  EXPECT_EQ(r.candidates[0].member.name, members[4].fingerprint.name);
  EXPECT_EQ(r.candidates[0].verdict, "derived");
  EXPECT_GT(r.candidates[0].registry_z, 3);
  std::vector<double> p;
  for (const search_candidate& c : r.candidates) p.push_back(c.evidence.p);
  const double smallest = *std::min_element(p.begin(), p.end());
  EXPECT_DOUBLE_EQ(r.candidates[0].adjusted_p, std::min(1.0, 12 * smallest));
  for (std::size_t i = 1; i < r.candidates.size(); ++i) {
    EXPECT_NE(r.candidates[i].verdict, "derived");
    EXPECT_GE(r.candidates[i].adjusted_p, r.candidates[i - 1].adjusted_p);
    EXPECT_TRUE(std::isfinite(r.candidates[i].registry_z));
  }
  // The member itself, bit for bit: identical.
  const search_result same = search_registry(members[2].fingerprint, members, quick());
  EXPECT_EQ(same.candidates[0].verdict, "identical");
  EXPECT_EQ(same.candidates[0].member.name, members[2].fingerprint.name);
}

// With fewer than five other members the registry's null is not read, and the verdict says so.
TEST(Search, SmallRegistryRestsOnTheSymmetryNullAlone) {
  std::vector<loaded_member> members;
  for (std::uint64_t seed = 30; seed < 33; ++seed) {
    model_fingerprint f = random_fingerprint(seed);
    members.push_back({{f.name, f.name + ".fingerprint.h5", std::string(64, 'a'), checkpoint_digest(f.files), ""}, f});
  }
  const search_result r = search_registry(with_noise(members[0].fingerprint, 0.5, 1), members, quick());
  EXPECT_EQ(r.candidates[0].verdict, "derived");
  EXPECT_TRUE(std::isnan(r.candidates[0].registry_z));
  EXPECT_NE(r.candidates[0].reason.find("too few other members"), std::string::npos);
}

}  // namespace
}  // namespace lineage

namespace lineage {
namespace {

TEST(LayerAlignment, KeepsOrderPairsOnceAndSkipsWhatDoesNotHelp) {
  // A's layer 1 was dropped from B's 4: the diagonal after it is shifted by one.
  const std::vector<std::vector<double>> s = {{5, 0, 0, 0}, {0, 0, 5, 0}, {0, 0, 0, 5}};
  const auto pairs = monotone_alignment(3, 4, [&](std::size_t i, std::size_t j) { return s[i][j]; });
  ASSERT_EQ(pairs.size(), 3u);
  EXPECT_EQ(pairs[1], (std::pair<std::size_t, std::size_t>{1, 2}));
  // Crossing pairs are never both taken; NaN and non-positive scores are never taken.
  const auto crossing = monotone_alignment(2, 2, [](std::size_t i, std::size_t j) { return i != j ? 3.0 : -1.0; });
  EXPECT_EQ(crossing.size(), 1u);
  EXPECT_TRUE(monotone_alignment(2, 2, [](std::size_t, std::size_t) { return std::nan(""); }).empty());
}

model_fingerprint without_layer(model_fingerprint f, std::size_t dropped) {
  f.layers.erase(f.layers.begin() + static_cast<std::ptrdiff_t>(dropped));
  for (std::size_t l = 0; l < f.layers.size(); ++l) f.layers[l].label = "layer " + std::to_string(l);
  return f;
}

// A dropped layer: the values of the layers after it meet their own; unrelated fingerprints of other
// depths keep uniform values p-values.
TEST(MemberEvidence, OtherDepthsAreAlignedOnQAndK) {
  testing::sketch_shape four;
  four.layers = 4;
  search_draws draws(quick());
  const model_fingerprint a = random_fingerprint(40, four);
  const member_evidence e = test_member(without_layer(with_noise(a, 0.3, 41), 1), a, draws);
  std::size_t aligned = 0;
  for (const unit_evidence& u : e.units) {
    EXPECT_NE(u.family, "heads");
    if (u.family == "values") {
      EXPECT_LT(u.p, 0.001) << u.label;
      aligned += u.label.find("~ member's") != std::string::npos ? 1 : 0;
    }
  }
  EXPECT_EQ(aligned, 2u);
  std::vector<double> p;
  for (std::uint64_t pair = 0; pair < 60; ++pair) {
    const member_evidence u = test_member(without_layer(random_fingerprint(700 + pair, four), 2),
                                          random_fingerprint(900 + pair, four), draws);
    for (const unit_evidence& x : u.units)
      if (x.family == "values") p.push_back(x.p);
  }
  ASSERT_GT(p.size(), 60u);
  EXPECT_GT(kolmogorov_smirnov_uniform(p).p, 0.001);
}

}  // namespace
}  // namespace lineage
