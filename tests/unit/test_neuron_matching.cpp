// Neuron matching (shard/neuron_match): Spearman's correlation of ranks, the matching of a real
// F32 MLP against a neuron-permuted, drifted copy of itself (both matchings recover the hidden
// permutation, ρ = 1), against a pruned copy (fewer neurons in B), and against unrelated MLPs
// (ρ√(n − 1) ≈ N(0, 1): uniform p-values).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "plan/plan.hpp"
#include "reduce/neuron_figures.hpp"
#include "reduce/probability.hpp"
#include "shard/block_compute.hpp"
#include "shard/neuron_match.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

// An MLP: gate and up [neurons, hidden], down [hidden, neurons], all N(0, 1).
struct mlp {
  std::size_t neurons = 0, hidden = 0;
  std::vector<float> gate, up, down;
};

mlp random_mlp(std::size_t neurons, std::size_t hidden, random_stream& stream) {
  mlp m{neurons, hidden, {}, {}, {}};
  for (auto* values : {&m.gate, &m.up, &m.down}) {
    values->resize(neurons * hidden);
    for (float& v : *values) v = static_cast<float>(stream.normal());
  }
  return m;
}

// Child neuron j is parent neuron source[j] (rows of gate/up, columns of down), plus noise.
mlp permuted(const mlp& parent, const std::vector<std::size_t>& source, double noise, random_stream& stream) {
  mlp child{source.size(), parent.hidden, {}, {}, {}};
  const std::size_t h = parent.hidden, n = parent.neurons, m = source.size();
  child.gate.resize(m * h);
  child.up.resize(m * h);
  child.down.resize(h * m);
  for (std::size_t j = 0; j < m; ++j)
    for (std::size_t k = 0; k < h; ++k) {
      child.gate[j * h + k] = parent.gate[source[j] * h + k] + static_cast<float>(noise * stream.normal());
      child.up[j * h + k] = parent.up[source[j] * h + k] + static_cast<float>(noise * stream.normal());
      child.down[k * m + j] = parent.down[k * n + source[j]] + static_cast<float>(noise * stream.normal());
    }
  return child;
}

// How much of A is matched, and through which path (neuron_match_request::sample, coarse_columns,
// candidates): all neurons densely unless asked.
struct matching_path {
  std::uint64_t sample = 0, coarse = 0, candidates = 0;
};

neuron_match_result match(const mlp& a, const mlp& b, const test::scratch_directory& dir, std::uint32_t k,
                          std::uint64_t seed, matching_path path = {}) {
  const auto write = [&](const mlp& m, const char* name) {
    return test::write_f32_safetensors(dir.path() / name, {{"gate", {m.neurons, m.hidden}, m.gate},
                                                           {"up", {m.neurons, m.hidden}, m.up},
                                                           {"down", {m.hidden, m.neurons}, m.down}});
  };
  const auto la = write(a, "a.safetensors"), lb = write(b, "b.safetensors");
  block_reader reader({dir.path() / "a.safetensors"}, {dir.path() / "b.safetensors"});
  neuron_match_request request;
  request.layer = 2;
  request.group = "mlp.";
  request.gate_a = la[0];
  request.up_a = la[1];
  request.down_a = la[2];
  request.gate_b = lb[0];
  request.up_b = lb[1];
  request.down_b = lb[2];
  request.neurons_a = a.neurons;
  request.neurons_b = b.neurons;
  request.hidden = a.hidden;
  request.column_begin = 3;
  request.column_count = a.hidden - 6;
  request.permutations = k;
  request.seed = seed;
  request.sample = path.sample;
  request.coarse_columns = path.coarse;
  request.candidates = path.candidates;
  return compute_neuron_match(5, request, reader);
}

TEST(NeuronMatch, RankCorrelationOfOrders) {
  EXPECT_DOUBLE_EQ(rank_correlation({3, 1, 2, 0}, {30, 10, 20, 0}), 1.0);
  EXPECT_DOUBLE_EQ(rank_correlation({0, 1, 2, 3}, {9, 7, 5, 1}), -1.0);
  // Σd² = 2 for one adjacent swap of 4: ρ = 1 − 6·2 / (4·15) = 0.8.
  EXPECT_NEAR(rank_correlation({0, 1, 2, 3}, {1, 0, 2, 3}), 0.8, 1e-12);
  EXPECT_TRUE(std::isnan(rank_correlation({1}, {2})));
}

TEST(NeuronMatch, BothMatchingsRecoverAPermutationOfNeurons) {
  test::scratch_directory dir("neurons");
  random_stream stream(1, "test", "mlp");
  const mlp a = random_mlp(96, 48, stream);
  std::vector<std::size_t> source(96);
  std::iota(source.begin(), source.end(), std::size_t{0});
  std::vector<std::uint32_t> order(96);
  random_permutation(stream, order);
  for (std::size_t j = 0; j < 96; ++j) source[j] = order[j];
  const mlp b = permuted(a, source, 0.5, stream);
  const neuron_match_result result = match(a, b, dir, 200, 7);
  ASSERT_TRUE(result.usable) << result.reason;
  EXPECT_EQ(result.request, 5u);
  // A's neuron i went to the child position j with source[j] = i.
  std::vector<std::int32_t> expected(96);
  for (std::size_t j = 0; j < 96; ++j) expected[source[j]] = static_cast<std::int32_t>(j);
  EXPECT_EQ(result.by_gate, expected);
  EXPECT_EQ(result.by_up, expected);
  EXPECT_EQ(result.combined, expected);
  EXPECT_EQ(result.ranked, 96u);
  EXPECT_DOUBLE_EQ(result.spearman, 1.0);
  EXPECT_GT(result.combined_similarity, 0.8);
  ASSERT_EQ(result.null.size(), 200u);
  for (const double rho : result.null) EXPECT_LT(rho, 0.5);
}

TEST(NeuronMatch, PrunedNeuronsLeaveAUnmatched) {
  test::scratch_directory dir("neurons-pruned");
  random_stream stream(2, "test", "mlp");
  const mlp a = random_mlp(64, 40, stream);
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < 64; ++i)
    if (i % 4 != 1) kept.push_back(i);  // 48 of 64 neurons survive, in order
  const mlp b = permuted(a, kept, 0.3, stream);
  const neuron_match_result result = match(a, b, dir, 0, 1);
  ASSERT_TRUE(result.usable);
  std::size_t unmatched = 0;
  for (std::size_t i = 0; i < 64; ++i) {
    if (i % 4 == 1) {
      unmatched += result.combined[i] < 0;
      continue;
    }
    EXPECT_EQ(result.combined[i], static_cast<std::int32_t>(std::find(kept.begin(), kept.end(), i) - kept.begin()));
  }
  EXPECT_EQ(unmatched, 16u);
  EXPECT_EQ(result.ranked, 48u);
  EXPECT_GT(result.spearman, 0.99);
  EXPECT_TRUE(result.null.empty());
}

TEST(NeuronMatch, UnrelatedMlpsGiveUniformClosedFormPValues) {
  test::scratch_directory dir("neurons-null");
  std::vector<double> p_closed;
  for (std::uint64_t trial = 0; trial < 120; ++trial) {
    random_stream stream(100 + trial, "test", "unrelated mlps");
    const mlp a = random_mlp(48, 24, stream), b = random_mlp(48, 24, stream);
    const neuron_match_result result = match(a, b, dir, 0, trial);
    ASSERT_TRUE(result.usable);
    p_closed.push_back(normal_upper_tail(result.spearman * std::sqrt(static_cast<double>(result.ranked) - 1)));
  }
  const combined_p ks = kolmogorov_smirnov_uniform(p_closed);
  EXPECT_GT(ks.p, 0.01) << "KS D = " << ks.statistic;
}

// Issue 20: a wide MLP is matched on a seeded sample of A's neurons, each through its candidates
// from a coarse pass; the sampled neurons recover the permutation, the others stay unmatched.
TEST(NeuronMatch, AWideMlpIsMatchedOnASampleThroughCandidates) {
  test::scratch_directory dir("neurons-sampled");
  random_stream stream(3, "test", "mlp");
  const mlp a = random_mlp(1200, 40, stream);
  std::vector<std::uint32_t> order(1200);
  random_permutation(stream, order);
  const std::vector<std::size_t> source(order.begin(), order.end());
  const mlp b = permuted(a, source, 0.5, stream);
  std::vector<std::int32_t> expected(1200);
  for (std::size_t j = 0; j < 1200; ++j) expected[source[j]] = static_cast<std::int32_t>(j);
  const neuron_match_result result = match(a, b, dir, 100, 7, {.sample = 150, .coarse = 16, .candidates = 4});
  ASSERT_TRUE(result.usable) << result.reason;
  ASSERT_EQ(result.by_gate.size(), 1200u);
  std::size_t sampled = 0;
  for (std::size_t i = 0; i < 1200; ++i) {
    if (result.combined[i] < 0) {
      EXPECT_EQ(result.by_gate[i], -1);
      EXPECT_EQ(result.by_up[i], -1);
      continue;
    }
    ++sampled;
    EXPECT_EQ(result.by_gate[i], expected[i]) << "neuron " << i;
    EXPECT_EQ(result.by_up[i], expected[i]) << "neuron " << i;
    EXPECT_EQ(result.combined[i], expected[i]) << "neuron " << i;
  }
  EXPECT_EQ(sampled, 150u);
  EXPECT_EQ(result.ranked, 150u);
  EXPECT_DOUBLE_EQ(result.spearman, 1.0);
  EXPECT_GT(result.combined_similarity, 0.8);
  // The sample is the seed's: the same seed, the same neurons.
  const neuron_match_result again = match(a, b, dir, 100, 7, {.sample = 150, .coarse = 16, .candidates = 4});
  EXPECT_EQ(again.combined, result.combined);
  EXPECT_EQ(again.null, result.null);
}

// The report's agreement is the share of the neurons the matching was asked to match: a sampled
// MLP whose sample all agree scores 1, not 512 / n.
TEST(NeuronMatch, AgreementOfASampledMlpIsAShareOfTheSample) {
  work_plan plan;
  neuron_match_request request;
  request.neurons_a = request.neurons_b = 10;
  request.sample = 4;
  plan.neuron_matches.push_back(request);
  neuron_match_result result;
  result.usable = true;
  result.by_gate = result.by_up = result.combined = {-1, 3, -1, 1, -1, -1, 9, -1, 0, -1};
  result.by_up[8] = 2;  // one of the four disagrees
  result.ranked = 4;
  result.spearman = 0.4;
  const auto figures = derive_neuron_matching(plan, {result});
  ASSERT_EQ(figures.size(), 1u);
  EXPECT_DOUBLE_EQ(figures[0].agreement, 0.75);
  plan.neuron_matches[0].sample = 0;  // all ten asked: the same matchings agree on 3 of 10
  EXPECT_DOUBLE_EQ(derive_neuron_matching(plan, {result})[0].agreement, 0.3);
}

TEST(NeuronMatch, UnrelatedWideMlpsThroughCandidatesGiveUniformClosedFormPValues) {
  test::scratch_directory dir("neurons-sampled-null");
  std::vector<double> p_closed;
  for (std::uint64_t trial = 0; trial < 100; ++trial) {
    random_stream stream(700 + trial, "test", "unrelated mlps");
    const mlp a = random_mlp(200, 24, stream), b = random_mlp(220, 24, stream);
    const neuron_match_result result = match(a, b, dir, 0, trial, {.sample = 60, .coarse = 8, .candidates = 4});
    ASSERT_TRUE(result.usable);
    EXPECT_LE(result.ranked, 60u);
    p_closed.push_back(normal_upper_tail(result.spearman * std::sqrt(static_cast<double>(result.ranked) - 1)));
  }
  const combined_p ks = kolmogorov_smirnov_uniform(p_closed);
  EXPECT_GT(ks.p, 0.01) << "KS D = " << ks.statistic;
}

}  // namespace
}  // namespace lineage
