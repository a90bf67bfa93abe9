// The symmetry groups the permutation nulls draw from (shard/symmetry_draw): which axis layouts fit
// a group, the structure of each form's draws (plain permutations, whole heads moved with their KV
// group, dimensions moved only inside a head and the same way in every block of that head), that
// the draws are uniform on the group (the randomization p is exact only then), the same sequence for
// every layout drawn from one seed, and the group sizes the report quotes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

#include "core/error.hpp"
#include "shard/symmetry_draw.hpp"

namespace lineage {
namespace {

using form = symmetry_group::form;
using role = axis_layout::role;

symmetry_group plain_group(std::uint64_t units) { return {form::plain, units, 0, 1, 0}; }
symmetry_group heads_group(std::uint64_t kv, std::uint64_t group, std::uint64_t within) {
  return {form::heads, 0, kv, group, within};
}
symmetry_group within_group(std::uint64_t kv, std::uint64_t group, std::uint64_t within) {
  return {form::within, 0, kv, group, within};
}

axis_layout layout_of(role kind, std::uint64_t block_size, std::vector<std::uint32_t> components = {}) {
  return {kind, block_size, std::move(components)};
}

bool is_permutation(const std::vector<std::uint32_t>& image) {
  std::vector<bool> seen(image.size(), false);
  for (const std::uint32_t to : image) {
    if (to >= image.size() || seen[to]) return false;
    seen[to] = true;
  }
  return true;
}

// The first `count` draws of `group` from `seed`, expanded on `layout` over `units` units.
std::vector<std::vector<std::uint32_t>> draws_of(const symmetry_group& group, const axis_layout& layout,
                                                 std::uint64_t units, std::size_t count, std::uint64_t seed) {
  symmetry_draws draws(group, seed);
  std::vector<std::vector<std::uint32_t>> out(count, std::vector<std::uint32_t>(units));
  for (auto& image : out) draws.next(layout, image);
  return out;
}

// Each of `cells` outcomes, observed `counts` times out of `total`, within 4 sd of total / cells.
void expect_equally_frequent(const std::map<std::vector<std::uint32_t>, int>& counts, std::size_t cells, int total) {
  EXPECT_EQ(counts.size(), cells);
  const double p = 1.0 / static_cast<double>(cells);
  const double expected = total * p, sd = std::sqrt(total * p * (1 - p));
  for (const auto& [image, count] : counts) EXPECT_NEAR(count, expected, 4 * sd);
}

// --- which axes fit -------------------------------------------------------------------------------

TEST(SymmetryDraw, PlainGroupsFitOnlyPlainAxesOfTheirLength) {
  EXPECT_TRUE(fits(plain_group(5), layout_of(role::plain, 1), 5));
  EXPECT_FALSE(fits(plain_group(5), layout_of(role::plain, 1), 4));
  EXPECT_FALSE(fits(plain_group(5), layout_of(role::plain, 1), 6));
  EXPECT_FALSE(fits(plain_group(6), layout_of(role::query, 3), 6));
  EXPECT_FALSE(fits(plain_group(6), layout_of(role::key_value, 3), 6));
  // One unit has nothing to permute.
  EXPECT_FALSE(fits(plain_group(1), layout_of(role::plain, 1), 1));
  EXPECT_FALSE(fits(plain_group(0), layout_of(role::plain, 1), 0));
}

TEST(SymmetryDraw, HeadGroupsFitQueryAndKeyValueAxesInWholeBlocks) {
  const symmetry_group heads = heads_group(2, 3, 0);  // 6 query heads in 2 KV groups
  EXPECT_TRUE(fits(heads, layout_of(role::query, 4), 24));
  EXPECT_TRUE(fits(heads, layout_of(role::key_value, 4), 8));
  EXPECT_TRUE(fits(heads, layout_of(role::query, 1), 6));  // a bias of one element per head
  EXPECT_FALSE(fits(heads, layout_of(role::query, 4), 20));
  EXPECT_FALSE(fits(heads, layout_of(role::key_value, 4), 24));
  EXPECT_FALSE(fits(heads, layout_of(role::query, 0), 0));
  EXPECT_FALSE(fits(heads, layout_of(role::plain, 1), 24));
  // Blocks take their head's own dimension permutation only in the within form.
  EXPECT_FALSE(fits(heads, layout_of(role::key_value, 4, {0, 1}), 8));
  // With dimensions permuted inside the heads, a block is exactly one head's dimensions.
  const symmetry_group inside = heads_group(2, 3, 4);
  EXPECT_TRUE(fits(inside, layout_of(role::query, 4), 24));
  EXPECT_TRUE(fits(inside, layout_of(role::key_value, 4), 8));
  EXPECT_FALSE(fits(inside, layout_of(role::query, 2), 12));
  EXPECT_FALSE(fits(inside, layout_of(role::key_value, 8), 16));
}

TEST(SymmetryDraw, WithinGroupsFitBlocksOfTheirDimensionAndValidComponents) {
  const symmetry_group values = within_group(2, 3, 4);
  EXPECT_TRUE(fits(values, layout_of(role::key_value, 4), 8));
  EXPECT_TRUE(fits(values, layout_of(role::query, 4), 24));
  EXPECT_FALSE(fits(values, layout_of(role::key_value, 2), 4));
  EXPECT_FALSE(fits(values, layout_of(role::query, 4), 8));
  EXPECT_FALSE(fits(values, layout_of(role::plain, 1), 8));
  EXPECT_TRUE(fits(values, layout_of(role::key_value, 4, {1, 0}), 8));
  EXPECT_TRUE(fits(values, layout_of(role::query, 4, {1, 1, 0, 0, 1, 0}), 24));
  EXPECT_FALSE(fits(values, layout_of(role::query, 4, {1, 1, 0, 0, 1}), 24));  // one per block
  EXPECT_FALSE(fits(values, layout_of(role::key_value, 4, {0, 2}), 8));        // no KV head 2
}

// --- the structure of the draws -------------------------------------------------------------------

TEST(SymmetryDraw, PlainDrawsArePermutationsAndUniform) {
  // 12000 draws of S_5: every position takes every value a fifth of the time, and each of the 120
  // permutations about 100 times.
  constexpr int total = 12000;
  const auto draws = draws_of(plain_group(5), layout_of(role::plain, 1), 5, total, 17);
  std::vector<std::vector<int>> at(5, std::vector<int>(5, 0));
  std::map<std::vector<std::uint32_t>, int> counts;
  for (const auto& image : draws) {
    ASSERT_TRUE(is_permutation(image));
    for (std::size_t i = 0; i < 5; ++i) ++at[i][image[i]];
    ++counts[image];
  }
  const double sd = std::sqrt(total * 0.2 * 0.8);
  for (std::size_t i = 0; i < 5; ++i)
    for (std::size_t v = 0; v < 5; ++v) EXPECT_NEAR(at[i][v], total / 5.0, 4 * sd) << i << " → " << v;
  expect_equally_frequent(counts, 120, total);
}

TEST(SymmetryDraw, HeadDrawsMoveWholeHeadsWithTheirKeyValueHead) {
  // 3 KV heads, 2 query heads each, 3 dimensions per head: the query axis (18 units) and the key /
  // value axis (9 units) expanded from the same draws.
  const symmetry_group group = heads_group(3, 2, 0);
  const std::uint64_t size = 3, g = 2;
  const auto queries = draws_of(group, layout_of(role::query, size), 18, 200, 5);
  const auto keys = draws_of(group, layout_of(role::key_value, size), 9, 200, 5);
  for (std::size_t k = 0; k < queries.size(); ++k) {
    ASSERT_TRUE(is_permutation(queries[k]));
    ASSERT_TRUE(is_permutation(keys[k]));
    for (std::uint64_t j = 0; j < 3; ++j) {
      const std::uint64_t kv_image = keys[k][j * size] / size;
      for (std::uint64_t d = 0; d < size; ++d) EXPECT_EQ(keys[k][j * size + d], kv_image * size + d);
      // Query heads of KV group j go to query heads of the KV group j's KV head goes to.
      for (std::uint64_t q = j * g; q < (j + 1) * g; ++q) {
        const std::uint64_t source = queries[k][q * size] / size;
        EXPECT_EQ(source / g, kv_image) << "draw " << k << ", query head " << q;
        for (std::uint64_t d = 0; d < size; ++d) EXPECT_EQ(queries[k][q * size + d], source * size + d);
      }
    }
  }
}

TEST(SymmetryDraw, HeadDrawsWithDimensionsPermuteInsideTheKeyValueHead) {
  // Without RoPE the dimensions of a KV head move too, and every query head of the group moves
  // its dimensions the way its KV head does (they meet in the same dot products).
  const symmetry_group group = heads_group(2, 2, 3);
  const std::uint64_t size = 3, g = 2;
  const auto queries = draws_of(group, layout_of(role::query, size), 12, 300, 9);
  const auto keys = draws_of(group, layout_of(role::key_value, size), 6, 300, 9);
  bool moved_inside = false;
  for (std::size_t k = 0; k < queries.size(); ++k) {
    ASSERT_TRUE(is_permutation(queries[k]));
    ASSERT_TRUE(is_permutation(keys[k]));
    for (std::uint64_t q = 0; q < 4; ++q) {
      const std::uint64_t j = q / g, source = queries[k][q * size] / size, kv_image = keys[k][j * size] / size;
      EXPECT_EQ(source / g, kv_image);
      for (std::uint64_t d = 0; d < size; ++d) {
        EXPECT_EQ(queries[k][q * size + d] / size, source) << "a query head split";
        EXPECT_EQ(queries[k][q * size + d] % size, keys[k][j * size + d] % size) << "draw " << k;
        moved_inside = moved_inside || queries[k][q * size + d] % size != d;
      }
    }
  }
  EXPECT_TRUE(moved_inside);
}

TEST(SymmetryDraw, HeadGroupElementsAreEquallyFrequent) {
  // KV 2, 2 query heads each: σ ∈ S_2, τ_0, τ_1 ∈ S_2, so 2!·(2!)² = 8 elements, seen on the query
  // axis with one unit per head.
  constexpr int total = 8000;
  std::map<std::vector<std::uint32_t>, int> counts;
  for (const auto& image : draws_of(heads_group(2, 2, 0), layout_of(role::query, 1), 4, total, 23)) ++counts[image];
  expect_equally_frequent(counts, 8, total);
}

TEST(SymmetryDraw, WithinDrawsStayInsideBlocksAndFollowTheirComponent) {
  // Values: 2 KV heads of 3 dimensions, 2 query heads each. o_proj's columns (query blocks) read in
  // a recovered head order take the permutation of the KV head each block now belongs to.
  const symmetry_group group = within_group(2, 2, 3);
  const std::uint64_t size = 3;
  const std::vector<std::uint32_t> components = {1, 0, 0, 1};
  const auto mapped = draws_of(group, layout_of(role::query, size, components), 12, 300, 31);
  const auto own = draws_of(group, layout_of(role::query, size), 12, 300, 31);
  const auto values = draws_of(group, layout_of(role::key_value, size), 6, 300, 31);
  bool moved = false;
  for (std::size_t k = 0; k < mapped.size(); ++k) {
    ASSERT_TRUE(is_permutation(mapped[k]));
    ASSERT_TRUE(is_permutation(own[k]));
    for (std::uint64_t b = 0; b < 4; ++b)
      for (std::uint64_t d = 0; d < size; ++d) {
        EXPECT_EQ(mapped[k][b * size + d] / size, b) << "left its block";
        EXPECT_EQ(own[k][b * size + d] / size, b) << "left its block";
        EXPECT_EQ(mapped[k][b * size + d] % size, values[k][components[b] * size + d] % size);
        EXPECT_EQ(own[k][b * size + d] % size, values[k][(b / 2) * size + d] % size);
        moved = moved || mapped[k][b * size + d] != b * size + d;
      }
    for (std::uint64_t j = 0; j < 2; ++j)
      for (std::uint64_t d = 0; d < size; ++d) EXPECT_EQ(values[k][j * size + d] / size, j);
  }
  EXPECT_TRUE(moved);
}

TEST(SymmetryDraw, WithinGroupElementsAreEquallyFrequent) {
  // One head of 3 dimensions: the 6 elements of S_3.
  constexpr int total = 6000;
  std::map<std::vector<std::uint32_t>, int> counts;
  for (const auto& image : draws_of(within_group(1, 1, 3), layout_of(role::key_value, 3), 3, total, 41))
    ++counts[image];
  expect_equally_frequent(counts, 6, total);
}

// --- one sequence per seed ------------------------------------------------------------------------

TEST(SymmetryDraw, TheSeedAloneDecidesTheSequence) {
  const symmetry_group group = plain_group(9);
  const axis_layout layout = layout_of(role::plain, 1);
  EXPECT_EQ(draws_of(group, layout, 9, 20, 77), draws_of(group, layout, 9, 20, 77));
  const auto other = draws_of(group, layout, 9, 20, 78), first = draws_of(group, layout, 9, 20, 77);
  int same = 0;
  for (std::size_t k = 0; k < first.size(); ++k) same += first[k] == other[k];
  EXPECT_LT(same, 2);
  // An axis of the wrong length is a planning error.
  symmetry_draws draws(group, 77);
  std::vector<std::uint32_t> short_axis(8);
  EXPECT_THROW(draws.next(layout, short_axis), internal_error);
  symmetry_draws head_draws(heads_group(2, 2, 0), 1);
  std::vector<std::uint32_t> odd_axis(7);
  EXPECT_THROW(head_draws.next(layout_of(role::query, 2), odd_axis), internal_error);
}

TEST(SymmetryDraw, GroupSizes) {
  EXPECT_NEAR(log10_group_size(plain_group(5)), std::log10(120.0), 1e-12);
  EXPECT_NEAR(log10_group_size(plain_group(1000)), std::lgamma(1001.0) / std::log(10.0), 1e-9);
  EXPECT_NEAR(log10_group_size(heads_group(2, 2, 0)), std::log10(8.0), 1e-12);
  // 2!·(3!·4!)²
  EXPECT_NEAR(log10_group_size(heads_group(2, 3, 4)), std::log10(2.0 * 144.0 * 144.0), 1e-12);
  // (4!)³
  EXPECT_NEAR(log10_group_size(within_group(3, 2, 4)), 3 * std::log10(24.0), 1e-12);
  EXPECT_NEAR(log10_group_size(within_group(3, 2, 1)), 0.0, 1e-12);
}

}  // namespace
}  // namespace lineage
