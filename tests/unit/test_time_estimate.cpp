// plan/time_estimate: each phase of each rank from the units' cost units at their kinds' rates,
// the matching phases' slowest ranks, the hidden rotation as the top of a range, and the dealing
// of units by that time. Checkpoints are built in memory; the rates themselves are measured by
// scripts/bench-e2e, not here.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "plan/plan_projection.hpp"
#include "plan/time_estimate.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using test::tensor_spec;

// A Llama-style model of `layers` layers, hidden H, MLP I, vocabulary V (K/V: H/2 rows).
checkpoint llama(std::uint64_t hidden, std::uint64_t intermediate, int layers = 4, std::uint64_t vocab = 4096) {
  std::vector<tensor_spec> specs = {{"model.embed_tokens.weight", {vocab, hidden}, dtype::bf16},
                                    {"model.norm.weight", {hidden}, dtype::bf16},
                                    {"lm_head.weight", {vocab, hidden}, dtype::bf16}};
  for (int l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    specs.push_back({p + "input_layernorm.weight", {hidden}, dtype::bf16});
    specs.push_back({p + "post_attention_layernorm.weight", {hidden}, dtype::bf16});
    specs.push_back({p + "self_attn.q_proj.weight", {hidden, hidden}, dtype::bf16});
    specs.push_back({p + "self_attn.k_proj.weight", {hidden / 2, hidden}, dtype::bf16});
    specs.push_back({p + "self_attn.v_proj.weight", {hidden / 2, hidden}, dtype::bf16});
    specs.push_back({p + "self_attn.o_proj.weight", {hidden, hidden}, dtype::bf16});
    specs.push_back({p + "mlp.gate_proj.weight", {intermediate, hidden}, dtype::bf16});
    specs.push_back({p + "mlp.up_proj.weight", {intermediate, hidden}, dtype::bf16});
    specs.push_back({p + "mlp.down_proj.weight", {hidden, intermediate}, dtype::bf16});
  }
  return test::make_checkpoint("/models/llama", "llama", specs,
                               {{"num_attention_heads", 8}, {"num_key_value_heads", 4}, {"hidden_size", hidden}});
}

work_plan projected(const checkpoint& a, const checkpoint& b, int ranks) {
  plan_options options;
  options.block_elements = 1 << 16;
  options.ranks = ranks;
  return plan_without_matching_bytes(a, b, test::embedded_registry(), options);
}

double sum_of(const std::vector<phase_seconds>& ranks, double phase_seconds::*phase) {
  double total = 0;
  for (const phase_seconds& r : ranks) total += r.*phase;
  return total;
}

TEST(TimeEstimate, EveryPhaseIsTheSumOfItsUnitsAtTheirRates) {
  const work_plan plan = projected(llama(256, 704), llama(256, 704), 1);
  ASSERT_FALSE(plan.nulls.empty());
  ASSERT_FALSE(plan.neuron_matches.empty());
  ASSERT_FALSE(plan.head_matches.empty());
  ASSERT_FALSE(plan.hidden_matches.empty());
  const std::vector<phase_seconds> one = estimate_phases(plan, 2e9);
  ASSERT_EQ(one.size(), 1u);
  double nulls = 0, other = 0, matching = 0, rotation = 0, blocks = 0;
  for (const auto& r : plan.nulls) nulls += unit_seconds(r);
  for (const auto& r : plan.neuron_matches) other += unit_seconds(r);
  for (const auto& r : plan.cross_layers) other += unit_seconds(r);
  for (const auto& u : plan.content.units) other += static_cast<double>(u.bytes) / 2e9;
  for (const auto& r : plan.head_matches) matching += unit_seconds(r);
  for (const auto& r : plan.hidden_matches) {
    matching += unit_seconds(r);
    rotation += rotation_seconds(r);
  }
  for (const auto& b : plan.blocks) blocks += static_cast<double>(b.elements * 4) / 2e9;  // BF16 both sides
  EXPECT_DOUBLE_EQ(one[0].nulls, nulls);
  EXPECT_DOUBLE_EQ(one[0].other, other);
  EXPECT_DOUBLE_EQ(one[0].matching, matching);
  EXPECT_DOUBLE_EQ(one[0].rotation, rotation);
  EXPECT_NEAR(one[0].blocks, blocks, 1e-12 * blocks);
  EXPECT_GT(rotation, 0);  // equal widths: the rotation may be estimated
  EXPECT_DOUBLE_EQ(one[0].most(), one[0].least() + rotation);
}

TEST(TimeEstimate, AMachinesSpeedDividesEachPhaseOfUnitsByItsOwnFactor) {
  const work_plan plan = projected(llama(256, 704, 8), llama(256, 704, 8), 2);
  const std::vector<phase_seconds> reference = estimate_phases(plan, 2e9);
  machine_speed speed;
  for (const unit_kind kind : {unit_kind::null_cyclic, unit_kind::null_products, unit_kind::null_rows, unit_kind::null_columns})
    speed.of(kind) = 0.5;
  for (const unit_kind kind : {unit_kind::cross_layer, unit_kind::neuron_match, unit_kind::fingerprint}) speed.of(kind) = 4.0;
  for (const unit_kind kind : {unit_kind::expert_match, unit_kind::head_match, unit_kind::hidden_match, unit_kind::hidden_rotation})
    speed.of(kind) = 2.0;
  const std::vector<phase_seconds> here = estimate_phases(plan, 2e9, speed);
  ASSERT_EQ(here.size(), reference.size());
  for (std::size_t r = 0; r < here.size(); ++r) {
    SCOPED_TRACE(testing::Message() << "rank " << r);
    // Content units read bytes at the caller's rate, as blocks do: only the units' part moves.
    double content = 0;
    for (std::size_t i = 0; i < plan.content.units.size(); ++i)
      if (plan.content.unit_rank.at(i) == r) content += static_cast<double>(plan.content.units[i].bytes) / 2e9;
    ASSERT_GT(reference[r].nulls, 0);
    EXPECT_DOUBLE_EQ(here[r].nulls, reference[r].nulls / 0.5);
    EXPECT_NEAR(here[r].other, content + (reference[r].other - content) / 4.0, 1e-12 * reference[r].other);
    EXPECT_DOUBLE_EQ(here[r].matching, reference[r].matching / 2.0);
    EXPECT_DOUBLE_EQ(here[r].rotation, reference[r].rotation / 2.0);
    EXPECT_DOUBLE_EQ(here[r].blocks, reference[r].blocks);
  }
  for (const double bad : {0.0, -1.0, std::nan(""), HUGE_VAL}) {
    machine_speed broken;
    broken.of(unit_kind::fingerprint) = bad;
    EXPECT_THROW((void)estimate_phases(plan, 2e9, broken), internal_error);
  }
}

TEST(TimeEstimate, EachKindOfUnitMovesWithItsOwnFactorOnly) {
  const work_plan plan = projected(llama(256, 704, 8), llama(256, 704, 8), 1);
  const phase_seconds reference = estimate_phases(plan, 2e9).at(0);
  double cyclic = 0, others = 0;
  for (const null_request& request : plan.nulls)
    (kind_of(request) == unit_kind::null_cyclic ? cyclic : others) += unit_seconds(request);
  ASSERT_GT(cyclic, 0);
  ASSERT_GT(others, 0);
  machine_speed speed;
  speed.of(unit_kind::null_cyclic) = 3.0;
  const phase_seconds here = estimate_phases(plan, 2e9, speed).at(0);
  EXPECT_NEAR(here.nulls, cyclic / 3.0 + others, 1e-12 * reference.nulls);
  EXPECT_DOUBLE_EQ(here.other, reference.other);
  EXPECT_DOUBLE_EQ(here.matching, reference.matching);
  // Every kind has its own name (plan.json's keys).
  for (std::size_t i = 0; i < unit_kind_count; ++i)
    for (std::size_t j = 0; j < i; ++j)
      EXPECT_NE(unit_kind_name(static_cast<unit_kind>(i)), unit_kind_name(static_cast<unit_kind>(j)));
}

TEST(TimeEstimate, RanksShareTheWorkAndEachWaitsForTheMatchingPhasesSlowest) {
  const checkpoint a = llama(256, 704, 8), b = llama(256, 704, 8);
  const std::vector<phase_seconds> one = estimate_phases(projected(a, b, 1), 2e9);
  for (const int ranks : {2, 3}) {
    SCOPED_TRACE(testing::Message() << ranks << " ranks");
    const work_plan plan = projected(a, b, ranks);
    const std::vector<phase_seconds> many = estimate_phases(plan, 2e9);
    ASSERT_EQ(many.size(), static_cast<std::size_t>(ranks));
    // The work is conserved: nulls, blocks and other units split over the ranks.
    for (const auto phase : {&phase_seconds::nulls, &phase_seconds::other, &phase_seconds::blocks})
      EXPECT_NEAR(sum_of(many, phase), one[0].*phase, 1e-9 * one[0].*phase);
    // Dealt by estimated time, largest first: no rank is over its share by more than its largest unit.
    double largest = 0;
    for (const auto& r : plan.nulls) largest = std::max(largest, unit_seconds(r));
    for (const auto& r : plan.neuron_matches) largest = std::max(largest, unit_seconds(r));
    for (const auto& r : plan.cross_layers) largest = std::max(largest, unit_seconds(r));
    for (const auto& u : plan.content.units) largest += static_cast<double>(u.bytes) / 2e9;  // dealt on their own
    const double share = (one[0].nulls + one[0].other) / ranks;
    for (const phase_seconds& r : many) {
      EXPECT_LE(r.nulls + r.other, share + largest * 1.0001);
      // Every rank waits for the matching phases' slowest rank: one figure for all.
      EXPECT_DOUBLE_EQ(r.matching, many[0].matching);
      EXPECT_DOUBLE_EQ(r.rotation, many[0].rotation);
    }
    // Every rank computes the hidden unit with the others: each reads all compared rows and takes
    // its share of the similarities and of the rotation's cross products; its lead adds the SVDs.
    double hidden = 0, rotation = 0;
    for (const auto& r : plan.hidden_matches) {
      hidden += unit_seconds(r, static_cast<std::uint64_t>(ranks));
      rotation += rotation_seconds(r, static_cast<std::uint64_t>(ranks), true);
      EXPECT_LT(unit_seconds(r, static_cast<std::uint64_t>(ranks)), unit_seconds(r));
      EXPECT_GT(unit_seconds(r, static_cast<std::uint64_t>(ranks)), unit_seconds(r) / ranks);  // the reading
      EXPECT_LT(rotation_seconds(r, static_cast<std::uint64_t>(ranks), false), rotation_seconds(r) / ranks);
    }
    EXPECT_LT(many[0].matching, one[0].matching);
    EXPECT_GE(many[0].matching, hidden);
    EXPECT_DOUBLE_EQ(many[0].rotation, rotation);
    EXPECT_LT(many[0].rotation, one[0].rotation);
  }
}

TEST(TimeEstimate, NoRotationWhenTheWidthsDiffer) {
  const work_plan plan = projected(llama(256, 704), llama(224, 704), 1);
  const std::vector<phase_seconds> one = estimate_phases(plan, 2e9);
  EXPECT_EQ(one[0].rotation, 0.0);
  EXPECT_FALSE(plan.fingerprints.empty());
  EXPECT_GT(one[0].other, 0.0);
}

TEST(TimeEstimate, NullsFromProductsPayTheirDrawsAtTheirOwnRate) {
  const work_plan plan = projected(llama(256, 704), llama(256, 704), 1);
  std::size_t products = 0;
  for (null_request request : plan.nulls) {
    if (!request.from_products) continue;
    ++products;
    // More draws cost more time, but less per cost unit than the slices' products' entries do.
    const double before = unit_seconds(request);
    const std::uint64_t cost = request.cost();
    request.permutations *= 2;
    EXPECT_GT(unit_seconds(request), before);
    EXPECT_GT((unit_seconds(request) - before) / static_cast<double>(request.cost() - cost),
              before / static_cast<double>(cost));
  }
  EXPECT_GT(products, 0u);
}

// A hidden unit computed by m ranks together takes S + P / m: its members' similarities split, the
// reading, standardising and assignments each member does alone do not, and grow with the rows read.
TEST(TimeEstimate, HiddenUnitSplitsItsSimilaritiesNotItsReading) {
  const work_plan plan = projected(llama(256, 704), llama(256, 704), 1);
  ASSERT_FALSE(plan.hidden_matches.empty());
  hidden_match_request request = plan.hidden_matches.front();
  const auto at = [&request](std::uint64_t members) { return unit_seconds(request, members); };
  const double split = at(1) - at(2), alone = at(1) - 2 * split;
  EXPECT_GT(split, 0.0);
  EXPECT_GT(alone, 0.0);
  EXPECT_NEAR(at(2) - at(4), split / 2, 1e-12 * at(1));
  EXPECT_NEAR(at(8), alone + 2 * split / 8, 1e-12 * at(1));
  request.row_count *= 2;  // twice the rows read: twice the part each member does alone
  const double split2 = at(1) - at(2);
  EXPECT_NEAR(at(1) - 2 * split2, 2 * alone, 1e-9 * at(1));
}

TEST(TimeEstimate, NanosecondsAreAtLeastOneAndSaturate) {
  EXPECT_EQ(nanoseconds(0), 1u);
  EXPECT_EQ(nanoseconds(-1), 1u);
  EXPECT_EQ(nanoseconds(std::nan("")), 1u);
  EXPECT_EQ(nanoseconds(1.5e-9), 2u);
  EXPECT_EQ(nanoseconds(2.0), 2'000'000'000u);
  EXPECT_EQ(nanoseconds(1e30), std::uint64_t{1} << 63);
}

}  // namespace
}  // namespace lineage
