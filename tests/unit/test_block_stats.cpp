// Mergeable moments (shard/block_stats) and their merge in plan order (reduce/block_results):
// splitting a vector into blocks anywhere and merging in order gives the single block's moments;
// the merge is bit-deterministic whatever the grouping of blocks by rank; the per-block shift keeps
// centred sums accurate for vectors with a large mean and a small spread.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/error.hpp"
#include "reduce/block_results.hpp"
#include "reduce/tensor_stats.hpp"
#include "shard/block_stats.hpp"
#include "shard/kernel.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using test::typed_vector;

// Correlated F64 data with a mean far from zero: a ~ N(3, 2²), b = 0.5 a + N(-1, 1).
std::pair<typed_vector, typed_vector> f64_pair(std::size_t n, std::uint64_t seed) {
  const auto x = test::normal_values(n, 3.0, 2.0, seed);
  auto y = test::normal_values(n, -1.0, 1.0, seed + 1);
  for (std::size_t i = 0; i < n; ++i) y[i] += 0.5 * x[i];
  return {test::encode(dtype::f64, x), test::encode(dtype::f64, y)};
}

// Block boundaries [0 = c0 < c1 < ... < ck = n].
std::vector<std::size_t> cuts_every(std::size_t n, std::size_t block) {
  std::vector<std::size_t> cuts;
  for (std::size_t c = 0; c < n; c += block) cuts.push_back(c);
  cuts.push_back(n);
  return cuts;
}

std::vector<std::size_t> random_cuts(std::size_t n, std::size_t how_many, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<std::size_t> cuts = {0, n};
  for (std::size_t k = 0; k < how_many; ++k) cuts.push_back(1 + engine() % (n - 1));
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  return cuts;
}

// The kernel on each block, merged in order.
pair_moments merged_blocks(const typed_vector& a, const typed_vector& b,
                           const std::vector<std::size_t>& cuts) {
  pair_moments merged;
  for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
    const std::size_t first = cuts[k], count = cuts[k + 1] - cuts[k];
    const typed_vector pa = a.slice(first, count), pb = b.slice(first, count);
    merged.merge(pair_moments::from_block(compute_block_sums(pa.run(), pb.run(), count)));
  }
  return merged;
}

pair_moments single_block(const typed_vector& a, const typed_vector& b) {
  return pair_moments::from_block(compute_block_sums(a.run(), b.run(), a.size()));
}

TEST(BlockStats, MergeOfAnySplitMatchesSingleBlock) {
  constexpr std::size_t n = 10007;
  auto [a, b] = f64_pair(n, 11);
  // A few non-finite values, so block-local exclusion and the element counts merge too.
  a.set_code(17, test::nan_code(dtype::f64));
  b.set_code(4099, test::inf_code(dtype::f64));
  const pair_moments whole = single_block(a, b);
  const std::vector<std::vector<std::size_t>> splits = {
      cuts_every(n, 1000), cuts_every(n, 2048), cuts_every(n, 8),      cuts_every(n, 1),
      {0, 1, n},           {0, n - 1, n},       random_cuts(n, 20, 1), random_cuts(n, 200, 2)};
  for (const auto& cuts : splits) {
    SCOPED_TRACE(testing::Message() << cuts.size() - 1 << " blocks");
    const pair_moments merged = merged_blocks(a, b, cuts);
    EXPECT_TRUE(test::moments_close(whole, merged, 1e-12));
    const similarity fw = derive_similarity(whole), fm = derive_similarity(merged);
    EXPECT_NEAR(fw.pearson, fm.pearson, 1e-12);
    EXPECT_NEAR(fw.cosine, fm.cosine, 1e-12);
    EXPECT_NEAR(fw.rel_l2, fm.rel_l2, 1e-12);
  }
}

// Float-path inputs: blocks change the lanes and shifts, so the agreement is that of the kernel's
// float partials (the Chan merge itself adds nothing visible at this level).
TEST(BlockStats, MergeOfSplitFloatBlocksMatchesSingleBlock) {
  constexpr std::size_t n = 20011;
  const auto x = test::normal_values(n, 0.8, 0.1, 21);
  auto y = test::normal_values(n, 0.0, 0.05, 22);
  for (std::size_t i = 0; i < n; ++i) y[i] += x[i];
  const typed_vector a = test::encode(dtype::bf16, x), b = test::encode(dtype::f32, y);
  const pair_moments whole = single_block(a, b);
  for (const auto& cuts : {cuts_every(n, 1000), cuts_every(n, 4096), random_cuts(n, 30, 3)}) {
    const pair_moments merged = merged_blocks(a, b, cuts);
    EXPECT_TRUE(test::moments_close(whole, merged, 2e-5));
    EXPECT_NEAR(derive_similarity(whole).pearson, derive_similarity(merged).pearson, 1e-5);
  }
}

// The merge arithmetic alone: blocks summarised exactly (in long double, with shifts far from the
// block means as well as near them) merge to the whole vector's moments within double rounding.
TEST(BlockStats, ChanMergeOfExactBlockSumsMatchesWholeVector) {
  constexpr std::size_t n = 50000;
  const auto x = test::normal_values(n, 250.0, 3.0, 31);
  auto y = test::normal_values(n, -40.0, 2.0, 32);
  for (std::size_t i = 0; i < n; ++i) y[i] += 0.3 * x[i];
  long double sx = 0, sy = 0;
  for (std::size_t i = 0; i < n; ++i) sx += x[i], sy += y[i];
  const long double mx = sx / n, my = sy / n;
  long double m2x = 0, m2y = 0, cxy = 0, rxx = 0, ryy = 0, rxy = 0, dd = 0;
  for (std::size_t i = 0; i < n; ++i) {
    m2x += (x[i] - mx) * (x[i] - mx);
    m2y += (y[i] - my) * (y[i] - my);
    cxy += (x[i] - mx) * (y[i] - my);
    rxx += static_cast<long double>(x[i]) * x[i];
    ryy += static_cast<long double>(y[i]) * y[i];
    rxy += static_cast<long double>(x[i]) * y[i];
    dd += (static_cast<long double>(x[i]) - y[i]) * (static_cast<long double>(x[i]) - y[i]);
  }
  const auto block_sums = [&](std::size_t first, std::size_t last, double shift_a, double shift_b) {
    kernel_sums s;
    s.elements = s.count = last - first;
    s.shift_a = shift_a;
    s.shift_b = shift_b;
    long double a1 = 0, b1 = 0, aa = 0, bb = 0, ab = 0, d2 = 0;
    for (std::size_t i = first; i < last; ++i) {
      const long double da = x[i] - static_cast<long double>(shift_a),
                        db = y[i] - static_cast<long double>(shift_b);
      a1 += da, b1 += db, aa += da * da, bb += db * db, ab += da * db;
      d2 += (static_cast<long double>(x[i]) - y[i]) * (static_cast<long double>(x[i]) - y[i]);
    }
    s.sum_a = static_cast<double>(a1), s.sum_b = static_cast<double>(b1);
    s.sum_aa = static_cast<double>(aa), s.sum_bb = static_cast<double>(bb),
    s.sum_ab = static_cast<double>(ab);
    s.sum_dd = static_cast<double>(d2);
    return s;
  };
  for (const auto& cuts : {cuts_every(n, 4096), random_cuts(n, 50, 4), cuts_every(n, 7)}) {
    pair_moments merged;
    for (std::size_t k = 0; k + 1 < cuts.size(); ++k)
      // Shift = the block's first value (as the kernel's shift is a sample mean: near the mean).
      merged.merge(pair_moments::from_block(block_sums(cuts[k], cuts[k + 1], x[cuts[k]], y[cuts[k]])));
    SCOPED_TRACE(testing::Message() << cuts.size() - 1 << " blocks");
    EXPECT_NEAR(merged.mean_a, static_cast<double>(mx), 1e-12 * std::fabs(static_cast<double>(mx)));
    EXPECT_NEAR(merged.mean_b, static_cast<double>(my), 1e-12 * std::fabs(static_cast<double>(my)));
    EXPECT_NEAR(merged.m2_a, static_cast<double>(m2x), 1e-12 * static_cast<double>(m2x));
    EXPECT_NEAR(merged.m2_b, static_cast<double>(m2y), 1e-12 * static_cast<double>(m2y));
    EXPECT_NEAR(merged.c_ab, static_cast<double>(cxy), 1e-12 * std::sqrt(static_cast<double>(m2x * m2y)));
    EXPECT_NEAR(merged.raw_aa, static_cast<double>(rxx), 1e-12 * static_cast<double>(rxx));
    EXPECT_NEAR(merged.raw_bb, static_cast<double>(ryy), 1e-12 * static_cast<double>(ryy));
    EXPECT_NEAR(merged.raw_ab, static_cast<double>(rxy), 1e-12 * std::sqrt(static_cast<double>(rxx * ryy)));
    EXPECT_NEAR(merged.sum_dd, static_cast<double>(dd), 1e-12 * static_cast<double>(dd));
    EXPECT_EQ(merged.count, n);
  }
  // Blocks summarised with a shift of zero (no shift): the merged centred sums still follow, within
  // the cancellation a zero shift allows (mean²/variance ≈ 7000 here).
  pair_moments unshifted;
  for (std::size_t k = 0; k + 1 < cuts_every(n, 4096).size(); ++k) {
    const auto cuts = cuts_every(n, 4096);
    unshifted.merge(pair_moments::from_block(block_sums(cuts[k], cuts[k + 1], 0.0, 0.0)));
  }
  EXPECT_NEAR(unshifted.m2_a, static_cast<double>(m2x), 1e-8 * static_cast<double>(m2x));
}

TEST(BlockStats, MergeIsBitDeterministicForTheSameSplit) {
  constexpr std::size_t n = 30011;
  const auto x = test::normal_values(n, 1.0, 0.2, 41);
  const auto y = test::normal_values(n, 1.0, 0.2, 42);
  const typed_vector a = test::encode(dtype::bf16, x), b = test::encode(dtype::bf16, y);
  for (const auto& cuts : {cuts_every(n, 1000), random_cuts(n, 25, 5)}) {
    const pair_moments first = merged_blocks(a, b, cuts);
    const pair_moments second = merged_blocks(a, b, cuts);
    EXPECT_TRUE(test::same_bits(first, second));
  }
}

TEST(BlockStats, BlocksWithoutFinitePairsMergeAsCountsOnly) {
  const auto [a, b] = f64_pair(5000, 51);
  const pair_moments base = single_block(a, b);
  kernel_sums nothing;  // a block whose pairs were all non-finite
  nothing.elements = 40;
  nothing.nonfinite_a = 40;
  nothing.nonfinite_b = 3;
  const pair_moments empty = pair_moments::from_block(nothing);
  EXPECT_EQ(empty.count, 0U);
  EXPECT_EQ(empty.mean_a, 0.0);
  EXPECT_EQ(empty.raw_aa, 0.0);

  pair_moments after = base;
  after.merge(empty);
  pair_moments before = empty;
  before.merge(base);
  for (const pair_moments* m : {&after, &before}) {
    EXPECT_EQ(m->elements, base.elements + 40);
    EXPECT_EQ(m->nonfinite_a, base.nonfinite_a + 40);
    EXPECT_EQ(m->nonfinite_b, base.nonfinite_b + 3);
    EXPECT_EQ(m->count, base.count);
    EXPECT_EQ(m->mean_a, base.mean_a);
    EXPECT_EQ(m->m2_a, base.m2_a);
    EXPECT_EQ(m->c_ab, base.c_ab);
    EXPECT_EQ(m->raw_ab, base.raw_ab);
    EXPECT_EQ(m->min_a, base.min_a);
    EXPECT_EQ(m->max_b, base.max_b);
  }
}

TEST(BlockStats, FromBlockUndoesTheShift) {
  // Two pairs, a = (1, 3), b = (2, 6), summarised with shifts 10 and -5.
  kernel_sums s;
  s.elements = s.count = 2;
  s.shift_a = 10;
  s.shift_b = -5;
  s.sum_a = (1 - 10) + (3 - 10);
  s.sum_b = (2 + 5) + (6 + 5);
  s.sum_aa = 81 + 49;
  s.sum_bb = 49 + 121;
  s.sum_ab = (-9) * 7 + (-7) * 11;
  s.sum_dd = 1 + 9;
  const pair_moments m = pair_moments::from_block(s);
  EXPECT_DOUBLE_EQ(m.mean_a, 2.0);
  EXPECT_DOUBLE_EQ(m.mean_b, 4.0);
  EXPECT_DOUBLE_EQ(m.m2_a, 2.0);  // (1-2)² + (3-2)²
  EXPECT_DOUBLE_EQ(m.m2_b, 8.0);  // (2-4)² + (6-4)²
  EXPECT_DOUBLE_EQ(m.c_ab, 4.0);  // (-1)(-2) + (1)(2)
  EXPECT_DOUBLE_EQ(m.raw_aa, 10.0);
  EXPECT_DOUBLE_EQ(m.raw_bb, 40.0);
  EXPECT_DOUBLE_EQ(m.raw_ab, 20.0);
  EXPECT_DOUBLE_EQ(m.sum_dd, 10.0);
  EXPECT_DOUBLE_EQ(m.sum_a(), 4.0);
  EXPECT_DOUBLE_EQ(m.sum_b(), 8.0);
}

// --- the shift: large mean, small spread ---------------------------------------------------------

struct naive_sums {
  double n = 0, a = 0, b = 0, aa = 0, bb = 0, ab = 0;
  [[nodiscard]] double pearson() const {
    const double cov = ab - a * b / n, va = aa - a * a / n, vb = bb - b * b / n;
    return cov / std::sqrt(va * vb);
  }
};

// Raw sums (no shift) with the kernel's accumulation structure: float partials of 32 terms in 8
// lanes, folded into double.
naive_sums naive_float_partials(const std::vector<float>& a, const std::vector<float>& b) {
  naive_sums total;
  total.n = static_cast<double>(a.size());
  float pa[8] = {}, pb[8] = {}, paa[8] = {}, pbb[8] = {}, pab[8] = {};
  const auto fold = [&] {
    for (int k = 0; k < 8; ++k) {
      total.a += pa[k], total.b += pb[k], total.aa += paa[k], total.bb += pbb[k], total.ab += pab[k];
      pa[k] = pb[k] = paa[k] = pbb[k] = pab[k] = 0;
    }
  };
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::size_t k = i % 8;
    pa[k] += a[i], pb[k] += b[i];
    paa[k] = std::fma(a[i], a[i], paa[k]);
    pbb[k] = std::fma(b[i], b[i], pbb[k]);
    pab[k] = std::fma(a[i], b[i], pab[k]);
    if (i % 256 == 255) fold();
  }
  fold();
  return total;
}

naive_sums naive_double(const std::vector<float>& a, const std::vector<float>& b) {
  naive_sums total;
  total.n = static_cast<double>(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double x = a[i], y = b[i];
    total.a += x, total.b += y, total.aa += x * x, total.bb += y * y, total.ab += x * y;
  }
  return total;
}

TEST(BlockStats, ShiftKeepsPearsonAccurateForLargeMeanSmallSpread) {
  constexpr std::size_t n = 4096;
  const auto z = test::normal_values(n, 0.0, 1.0, 61);
  const auto w = test::normal_values(n, 0.0, 1.0, 62);
  std::vector<float> a(n), b(n);
  std::vector<double> av(n), bv(n);
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = static_cast<float>(1000.0 + 1e-3 * z[i]);      // mean 1000, std 1e-3 (cv 1e-6)
    b[i] = static_cast<float>(a[i] + 1e-3 * 0.5 * w[i]);  // related, Pearson ≈ 0.9
    av[i] = a[i];
    bv[i] = b[i];
  }
  const typed_vector ta = test::encode(dtype::f32, av), tb = test::encode(dtype::f32, bv);
  const test::reference_stats r = test::reference_block(ta, tb);
  const double truth = static_cast<double>(r.c_ab / std::sqrt(r.m2_a * r.m2_b));
  ASSERT_GT(truth, 0.5);

  const pair_moments ours_moments = single_block(ta, tb);
  const double ours = derive_similarity(ours_moments).pearson;
  const double ours_merged = derive_similarity(merged_blocks(ta, tb, cuts_every(n, 1000))).pearson;
  const naive_sums naive_f = naive_float_partials(a, b), naive_d = naive_double(a, b);
  const double m2_true = static_cast<double>(r.m2_a);
  const double error_ours = std::fabs(ours - truth);
  const double error_merged = std::fabs(ours_merged - truth);
  const double error_naive_d = std::fabs(naive_d.pearson() - truth);
  const double m2_error_ours = std::fabs(ours_moments.m2_a - m2_true) / m2_true;
  const double m2_error_naive_f =
      std::fabs(naive_f.aa - naive_f.a * naive_f.a / naive_f.n - m2_true) / m2_true;
  RecordProperty("pearson_error_shifted", fmt::format("{:.3g}", error_ours));
  RecordProperty("pearson_error_naive_double", fmt::format("{:.3g}", error_naive_d));
  RecordProperty("m2_relative_error_naive_float", fmt::format("{:.3g}", m2_error_naive_f));
  EXPECT_LT(error_ours, 1e-5);
  EXPECT_LT(error_merged, 1e-5);
  EXPECT_LT(m2_error_ours, 1e-5);
  // Raw sums in the kernel's float partials leave nothing of Σ(a−ā)² (its Pearson may still land
  // anywhere, by the chance of correlated garbage), and even all-double raw sums lose most of their
  // digits to cancellation (mean² / variance = 10^12).
  EXPECT_GT(m2_error_naive_f, 10.0) << "naive float-partial Σ(a−ā)² is off by " << m2_error_naive_f;
  EXPECT_GT(error_naive_d, 1e-3) << "naive double Pearson " << naive_d.pearson() << " vs " << truth;
  EXPECT_GT(error_naive_d, 100 * error_ours);
  // The standard deviations come out right as well.
  const similarity f = derive_similarity(single_block(ta, tb));
  EXPECT_NEAR(f.std_a, std::sqrt(static_cast<double>(r.m2_a) / (n - 1)), 1e-5 * f.std_a);
  EXPECT_NEAR(f.cv_a, f.std_a / 1000.0, 1e-9);
}

// --- merge in plan order --------------------------------------------------------------------------

// A plan skeleton: pair p has `blocks_per_pair[p]` blocks, numbered consecutively.
work_plan skeleton_plan(const std::vector<std::uint64_t>& blocks_per_pair) {
  work_plan plan;
  for (std::size_t p = 0; p < blocks_per_pair.size(); ++p) {
    tensor_pair pair;
    pair.key.role = "role" + std::to_string(p);
    pair.first_block = plan.blocks.size();
    pair.block_count = blocks_per_pair[p];
    for (std::uint64_t k = 0; k < blocks_per_pair[p]; ++k) {
      work_block block;
      block.pair = static_cast<std::uint32_t>(p);
      block.first_element = k * 100;
      block.elements = 100;
      plan.blocks.push_back(block);
    }
    plan.pairs.push_back(pair);
  }
  assign_blocks(plan, 1);
  return plan;
}

// Each rank's results with block results only (the merge ignores the nulls).
std::vector<rank_results> blocks_only(const std::vector<std::vector<block_result>>& per_rank) {
  std::vector<rank_results> out;
  for (const auto& blocks : per_rank) {
    rank_results results;
    results.blocks = blocks;
    out.push_back(std::move(results));
  }
  return out;
}

std::vector<block_result> block_results_for(const work_plan& plan) {
  std::vector<block_result> results;
  for (std::size_t i = 0; i < plan.blocks.size(); ++i) {
    const auto [a, b] = f64_pair(100 + 37 * i, 700 + i);
    results.push_back({i, single_block(a, b)});
  }
  return results;
}

TEST(BlockStats, MergeInPlanOrderIgnoresHowBlocksWereGroupedByRank) {
  const work_plan plan = skeleton_plan({3, 0, 5, 1});
  const auto results = block_results_for(plan);
  // Reference: merge each pair's blocks in block order by hand.
  std::vector<pair_moments> expected(plan.pairs.size());
  for (const auto& r : results) expected[plan.blocks[r.block].pair].merge(r.moments);

  std::mt19937_64 engine(9);
  for (int ranks = 1; ranks <= 5; ++ranks)
    for (int trial = 0; trial < 3; ++trial) {
      // Contiguous runs per rank as the plan deals them, then shuffled inside each rank.
      std::vector<std::vector<block_result>> per_rank(static_cast<std::size_t>(ranks));
      for (std::size_t i = 0; i < results.size(); ++i)
        per_rank[i * static_cast<std::size_t>(ranks) / results.size()].push_back(results[i]);
      for (auto& list : per_rank) std::shuffle(list.begin(), list.end(), engine);
      std::shuffle(per_rank.begin(), per_rank.end(), engine);
      const auto merged = merge_in_plan_order(plan, blocks_only(per_rank));
      ASSERT_EQ(merged.size(), plan.pairs.size());
      for (std::size_t p = 0; p < merged.size(); ++p) {
        SCOPED_TRACE(testing::Message() << ranks << " ranks, pair " << p);
        EXPECT_TRUE(test::same_bits(expected[p], merged[p]));
      }
    }
  // The pair without blocks merges to the empty record.
  const auto merged = merge_in_plan_order(plan, blocks_only({results}));
  EXPECT_EQ(merged[1].elements, 0U);
  EXPECT_EQ(merged[1].count, 0U);
}

TEST(BlockStats, MergeInPlanOrderRejectsMissingDuplicateAndUnknownBlocks) {
  const work_plan plan = skeleton_plan({2, 2});
  const auto results = block_results_for(plan);
  auto missing = results;
  missing.erase(missing.begin() + 2);
  EXPECT_THROW((void)merge_in_plan_order(plan, blocks_only({missing})), internal_error);
  EXPECT_THROW((void)merge_in_plan_order(plan, blocks_only({results, {results[1]}})), internal_error);
  auto unknown = results;
  unknown.push_back({plan.blocks.size(), results[0].moments});
  EXPECT_THROW((void)merge_in_plan_order(plan, blocks_only({unknown})), internal_error);
  EXPECT_NO_THROW(
      (void)merge_in_plan_order(plan, blocks_only({{results[0], results[1]}, {}, {results[2], results[3]}})));
}

TEST(BlockStats, ResultsSurviveSerialization) {
  const work_plan plan = skeleton_plan({4, 3});
  rank_results results;
  results.blocks = block_results_for(plan);
  // Values JSON could not carry: infinities of an empty block, NaN-free but extreme numbers.
  kernel_sums empty;
  empty.elements = 9;
  empty.nonfinite_a = 9;
  results.blocks.push_back({99, pair_moments::from_block(empty)});
  results.blocks[0].moments.max_a = std::numeric_limits<double>::max();
  results.blocks[1].moments.min_b = std::numeric_limits<double>::denorm_min();
  // Null samples: a usable one with extreme values, an unusable one with its reason.
  null_samples usable;
  usable.pair = 1;
  usable.usable = true;
  usable.observed = -std::numeric_limits<double>::max();
  usable.t = {0.0, -0.0, std::numeric_limits<double>::denorm_min(), 1e300, -3.25};
  usable.randomizer = 0x1.0p-53;
  null_samples unusable;
  unusable.pair = 0;
  unusable.reason = "non-finite values";
  results.nulls = {usable, unusable};

  const auto back = deserialize_results(serialize_results(results));
  ASSERT_EQ(back.blocks.size(), results.blocks.size());
  for (std::size_t i = 0; i < results.blocks.size(); ++i) {
    EXPECT_EQ(back.blocks[i].block, results.blocks[i].block);
    EXPECT_TRUE(test::same_bits(back.blocks[i].moments, results.blocks[i].moments));
  }
  ASSERT_EQ(back.nulls.size(), results.nulls.size());
  for (std::size_t i = 0; i < results.nulls.size(); ++i) {
    const auto& x = back.nulls[i];
    const auto& y = results.nulls[i];
    EXPECT_EQ(x.pair, y.pair);
    EXPECT_EQ(x.usable, y.usable);
    EXPECT_EQ(x.reason, y.reason);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(x.observed), std::bit_cast<std::uint64_t>(y.observed));
    EXPECT_EQ(std::bit_cast<std::uint64_t>(x.randomizer), std::bit_cast<std::uint64_t>(y.randomizer));
    ASSERT_EQ(x.t.size(), y.t.size());
    for (std::size_t k = 0; k < y.t.size(); ++k)
      EXPECT_EQ(std::bit_cast<std::uint64_t>(x.t[k]), std::bit_cast<std::uint64_t>(y.t[k]));
  }
  const auto nothing = deserialize_results(serialize_results({}));
  EXPECT_TRUE(nothing.blocks.empty());
  EXPECT_TRUE(nothing.nulls.empty());
}

// A plan of `pairs` pairs with nulls for the pairs in `with_null`.
work_plan plan_with_nulls(std::size_t pairs, const std::vector<std::uint32_t>& with_null) {
  work_plan plan = skeleton_plan(std::vector<std::uint64_t>(pairs, 1));
  for (const std::uint32_t p : with_null) {
    null_request request;
    request.pair = p;
    request.rows = 10;
    request.row_length = 1;
    request.permutations = 3;
    plan.nulls.push_back(request);
  }
  assign_units(plan, 1);
  return plan;
}

null_samples samples_of(std::uint32_t pair) {
  null_samples s;
  s.pair = pair;
  s.usable = true;
  s.observed = pair + 0.5;
  s.t = {1.0 * pair, 2.0 * pair, 3.0 * pair};
  return s;
}

TEST(BlockStats, NullsByPairPlacesEachNullAndMarksPairsWithout) {
  const work_plan plan = plan_with_nulls(4, {0, 2, 3});
  // Spread over ranks in any order.
  std::vector<rank_results> per_rank(3);
  per_rank[0].nulls = {samples_of(3)};
  per_rank[2].nulls = {samples_of(2), samples_of(0)};
  const auto by_pair = nulls_by_pair(plan, per_rank);
  ASSERT_EQ(by_pair.size(), 4U);
  for (const std::uint32_t p : {0U, 2U, 3U}) {
    EXPECT_EQ(by_pair[p].pair, p);
    EXPECT_TRUE(by_pair[p].usable);
    EXPECT_EQ(by_pair[p].observed, p + 0.5);
    EXPECT_EQ(by_pair[p].t, samples_of(p).t);
  }
  EXPECT_EQ(by_pair[1].pair, 1U);
  EXPECT_FALSE(by_pair[1].usable);
  EXPECT_EQ(by_pair[1].reason, "no null planned");
  EXPECT_TRUE(by_pair[1].t.empty());
}

TEST(BlockStats, NullsByPairRejectsMissingDuplicateAndUnknownNulls) {
  const work_plan plan = plan_with_nulls(3, {0, 1});
  std::vector<rank_results> missing(1);
  missing[0].nulls = {samples_of(1)};
  EXPECT_THROW((void)nulls_by_pair(plan, missing), internal_error);
  std::vector<rank_results> duplicate(2);
  duplicate[0].nulls = {samples_of(0), samples_of(1)};
  duplicate[1].nulls = {samples_of(1)};
  EXPECT_THROW((void)nulls_by_pair(plan, duplicate), internal_error);
  std::vector<rank_results> unknown(1);
  unknown[0].nulls = {samples_of(0), samples_of(1), samples_of(3)};
  EXPECT_THROW((void)nulls_by_pair(plan, unknown), internal_error);
  std::vector<rank_results> complete(2);
  complete[0].nulls = {samples_of(1)};
  complete[1].nulls = {samples_of(0)};
  EXPECT_NO_THROW((void)nulls_by_pair(plan, complete));
}

}  // namespace
}  // namespace lineage
