// The memory budget check (plan/memory_budget): the largest unit's need, the window a budget
// leaves the nulls, and the one-line refusal of a budget too small, whose suggested budget is
// enough.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "core/error.hpp"
#include "plan/memory_budget.hpp"

namespace lineage {
namespace {

constexpr std::uint64_t mib = std::uint64_t{1} << 20;

// Two pairs: a 1 Mi-element BF16 matrix in 4 blocks with its null, and an MLP whose neurons are
// matched (`neurons` of them).
work_plan small_plan(std::uint64_t neurons) {
  work_plan plan;
  for (const char* name : {"model.layers.0.self_attn.q_proj.weight", "model.layers.0.mlp.up_proj.weight"}) {
    tensor_pair pair;
    pair.a.name = pair.b.name = name;
    plan.pairs.push_back(pair);
  }
  for (std::uint64_t k = 0; k < 4; ++k) {
    work_block block;
    block.pair = 0;
    block.first_element = k << 18;
    block.elements = 1 << 18;
    block.a.type = block.b.type = dtype::bf16;
    plan.blocks.push_back(block);
  }
  null_request null;
  null.pair = 0;
  null.rows = 1024;
  null.row_length = 1024;
  null.a.type = null.b.type = dtype::bf16;
  plan.nulls.push_back(null);
  neuron_match_request match;
  match.layer = 0;
  match.group = "mlp.";
  match.neurons_a = match.neurons_b = neurons;
  match.hidden = 1024;
  match.column_count = 256;
  plan.neuron_matches.push_back(match);
  plan.rank_first_block = {0, 4};
  plan.null_rank = {0};
  plan.neuron_match_rank = {0};
  return plan;
}

TEST(MemoryBudget, WithoutABudgetNothingIsWindowed) {
  const read_settings settings = reading_within_budget(small_plan(64), 0, read_method::read, 50 * mib);
  EXPECT_EQ(settings.method, read_method::read);
  EXPECT_EQ(settings.window_bytes, 0u);
}

TEST(MemoryBudget, TheLargestUnitIsNamed) {
  EXPECT_NE(largest_memory_need(small_plan(64)).unit.find("q_proj"), std::string::npos);  // a block
  const unit_memory need = largest_memory_need(small_plan(4096));
  EXPECT_EQ(need.unit, "neuron matching of layer 0 mlp.");
  EXPECT_GE(need.fixed, 3 * 4096ull * 4096 * 8);  // its similarity matrices in FP64
}

TEST(MemoryBudget, TheWindowIsAQuarterOfWhatTheBudgetLeavesWithinLimits) {
  const work_plan plan = small_plan(64);
  const std::uint64_t resident = 40 * mib;
  const std::uint64_t fixed = resident + memory_reserve(plan) + largest_memory_need(plan).fixed;
  const read_settings settings = reading_within_budget(plan, fixed + 40 * mib, read_method::map, resident);
  EXPECT_EQ(settings.method, read_method::map);
  EXPECT_EQ(settings.window_bytes, 10 * mib);
  EXPECT_EQ(reading_within_budget(plan, std::uint64_t{64} << 30, read_method::map, resident).window_bytes,
            largest_window);
}

TEST(MemoryBudget, ABudgetTooSmallIsRefusedWithTheBudgetThatWouldDo) {
  const work_plan plan = small_plan(2048);
  std::string message;
  try {
    (void)reading_within_budget(plan, 64 * mib, read_method::map, 40 * mib);
    FAIL() << "a 64 MiB budget was accepted for a plan needing more";
  } catch (const usage_error& error) {
    message = error.what();
  }
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  for (const char* part : {"memory_budget", "64 MiB", "40 MiB", "neuron matching of layer 0 mlp.", "at least"})
    EXPECT_NE(message.find(part), std::string::npos) << part << " missing from: " << message;
  std::smatch suggested;
  ASSERT_TRUE(std::regex_search(message, suggested, std::regex("budget of at least ([0-9]+) MiB"))) << message;
  const std::uint64_t enough = std::stoull(suggested[1]) * mib;
  EXPECT_GE(reading_within_budget(plan, enough, read_method::map, 40 * mib).window_bytes, smallest_window);
}

// Issue 18, defect 2: the K draws of every null count, on the rank that draws them and on rank 0
// that keeps them for the report; a count that cannot fit is a usage error, budget or not.
TEST(MemoryBudget, PermutationDrawsCountAndACountThatCannotFitIsAUsageError) {
  work_plan plan = small_plan(64);
  plan.nulls[0].permutations = 200;
  const std::uint64_t few = memory_reserve(plan);
  const std::uint64_t few_unit = null_fixed_bytes(plan.nulls[0]);
  plan.nulls[0].permutations = 3000000;
  EXPECT_GE(memory_reserve(plan) - few, 3000000ull * 2 * 8 * 4);  // T and directions, copies on rank 0
  EXPECT_GE(null_fixed_bytes(plan.nulls[0]) - few_unit, 2 * (3000000ull - 200) * 8);
  for (const std::uint64_t budget : {70 * mib, std::uint64_t{0}}) {
    plan.nulls[0].permutations = budget != 0 ? 3000000u : 4294967295u;
    std::string message;
    try {
      (void)reading_within_budget(plan, budget, read_method::map, 40 * mib);
      ADD_FAILURE() << "K = " << plan.nulls[0].permutations << " accepted with a budget of " << budget;
    } catch (const usage_error& error) {
      message = error.what();
    }
    EXPECT_NE(message.find("--permutations-vector"), std::string::npos) << message;
    EXPECT_NE(message.find(budget != 0 ? "memory budget" : "machine's memory"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace lineage

namespace lineage {
namespace {

// A null's resident need with a budget is bounded by the windows, without one it grows with the
// tensors; a block's does not depend on the reading.
TEST(MemoryBudget, ANullsNeedIsBoundedByItsWindows) {
  work_plan plan = small_plan(64);
  plan.nulls[0].rows = 1 << 16;  // a 64 Mi-element BF16 pair: 128 MiB per side
  const auto null_total = [&](const read_settings& reading) {
    for (const unit_memory& unit : memory_by_unit(plan, reading))
      if (unit.unit.rfind("permutation null", 0) == 0) return unit.total;
    return std::uint64_t{0};
  };
  const std::uint64_t unbounded = null_total({read_method::map, 0});
  const std::uint64_t windowed = null_total({read_method::map, 8 * mib});
  EXPECT_GE(unbounded, 2 * (128 + 256) * mib);  // both tensors mapped and decoded whole
  EXPECT_LE(windowed, 4 * 8 * mib + 8 * mib + (std::uint64_t{1} << 16) * 64);
}

}  // namespace
}  // namespace lineage
