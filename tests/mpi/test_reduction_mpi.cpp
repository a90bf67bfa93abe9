// The compare pipeline in process, on 2 and 3 ranks: rank 0 writes two generated models, plans,
// broadcasts the plan; every rank computes its blocks and its permutation nulls; rank 0 gathers,
// merges in plan order and places the nulls by pair. The merged moments and the null samples must
// be the same bits as one process computing everything — for any block size and rank count — and
// run_compare_job must report the same numbers.
//
// Protocol inside each test: local work is wrapped so that a failing rank still enters every
// collective, and ranks agree on failures (max of a flag) before going on.
#include <gtest/gtest.h>
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../unit/stats_test_support.hpp"
#include "checkpoint/checkpoint.hpp"
#include "core/error.hpp"
#include "job/comparison_steps.hpp"
#include "mpi/communicator.hpp"
#include "mpi/compare_job.hpp"
#include "plan/plan.hpp"
#include "plan/plan_io.hpp"
#include "reduce/block_results.hpp"
#include "reduce/null_figures.hpp"
#include "reduce/tensor_stats.hpp"
#include "shard/block_compute.hpp"
#include "synth/synth.hpp"

namespace lineage {
namespace {

communicator world() { return communicator(MPI_COMM_WORLD); }

// Runs `work`, returning its failure message ("" when it succeeded).
std::string attempt(const std::function<void()>& work) {
  try {
    work();
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

// True on every rank when every rank's message is empty; each rank reports its own failure.
bool all_ok(const communicator& comm, const std::string& mine, const char* phase) {
  EXPECT_EQ(mine, "") << phase << " failed on rank " << comm.rank();
  return comm.max(mine.empty() ? 0 : 1) == 0;
}

std::vector<std::filesystem::path> as_paths(const std::vector<std::string>& files) {
  return {files.begin(), files.end()};
}

// The generated models, written once by rank 0 for the whole suite.
class Reduction : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const communicator comm = world();
    std::string message;
    if (comm.is_root()) {
      message = attempt([] {
        std::random_device entropy;
        root_ = std::filesystem::temp_directory_path() /
                ("lineage-mpi-reduction-" + std::to_string(::getpid()) + "-" + std::to_string(entropy()));
        std::filesystem::create_directories(root_);
        synth::model_shape shape;
        shape.layers = 2;
        shape.hidden = 64;
        shape.intermediate = 160;
        shape.heads = 4;
        shape.kv_heads = 2;
        shape.vocab = 512;
        synth::write_options bf16;
        bf16.type = dtype::bf16;
        synth::write_independent_model(shape, 11, root_ / "a", bf16);
        // B: A plus 1% noise, re-encoded as F32 in two shards, with NaN/Inf injected in one tensor.
        synth::derivation noise;
        noise.kind = synth::derivation_kind::noise;
        noise.type = dtype::f32;
        noise.shards = 2;
        noise.injections = {{"model.layers.1.mlp.up_proj.weight", 7}};
        synth::write_derived_model(root_ / "a", root_ / "b", noise);
        // C: an unrelated model in F16.
        synth::write_options f16;
        f16.type = dtype::f16;
        synth::write_independent_model(shape, 22, root_ / "c", f16);
      });
    }
    std::string root = root_.string();
    comm.broadcast(root);
    root_ = root;
    setup_ok_ = all_ok(comm, message, "writing the models");
  }

  static void TearDownTestSuite() {
    const communicator comm = world();
    comm.barrier();
    if (comm.is_root() && !root_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(root_, ignored);
    }
  }

  void SetUp() override {
    if (!setup_ok_) GTEST_SKIP() << "the models could not be written";
  }

  static inline std::filesystem::path root_;
  static inline bool setup_ok_ = false;
};

// Rank 0's plan for `a` vs `b`, known to every rank through the broadcast; nullopt-like empty plan
// with ok = false when planning failed anywhere.
struct shared_plan {
  work_plan plan;
  bool ok = false;
};

// Permutation counts small enough for a quick test, large enough that nulls are not trivial.
constexpr null_options test_nulls{300, 40, 77};

shared_plan plan_everywhere(const communicator& comm, const std::filesystem::path& a,
                            const std::filesystem::path& b, std::uint64_t block_elements,
                            const null_options& nulls = test_nulls) {
  shared_plan shared;
  std::vector<char> bytes;
  std::string message;
  if (comm.is_root())
    message = attempt([&] {
      const auto registry = architecture_registry::load(std::nullopt);
      shared.plan =
          make_plan(open_checkpoint(a), open_checkpoint(b), registry, {block_elements, comm.size(), nulls});
      bytes = serialize_plan(shared.plan);
    });
  if (!all_ok(comm, message, "planning")) return shared;
  comm.broadcast(bytes);
  if (!comm.is_root()) message = attempt([&] { shared.plan = deserialize_plan(bytes); });
  shared.ok = all_ok(comm, message, "receiving the plan");
  return shared;
}

// Every block of the plan computed by this process alone and merged pair by pair in block order.
std::vector<pair_moments> single_process(const work_plan& plan) {
  block_reader reader(as_paths(plan.model_a.files), as_paths(plan.model_b.files));
  std::vector<pair_moments> merged(plan.pairs.size());
  for (const auto& block : plan.blocks)
    merged[block.pair].merge(pair_moments::from_block(reader.compute(block)));
  return merged;
}

// Every null of the plan computed by this process alone, by pair (pairs without a null: default).
std::vector<null_samples> single_process_nulls(const work_plan& plan) {
  block_reader reader(as_paths(plan.model_a.files), as_paths(plan.model_b.files));
  std::vector<null_samples> by_pair(plan.pairs.size());
  for (std::size_t i = 0; i < plan.nulls.size(); ++i) by_pair[plan.nulls[i].pair] = compute_null(plan, i, reader);
  return by_pair;
}

::testing::AssertionResult same_bits(const null_samples& x, const null_samples& y) {
  const auto bits = [](double v) { return std::bit_cast<std::uint64_t>(v); };
  if (x.pair != y.pair || x.usable != y.usable || x.reason != y.reason)
    return ::testing::AssertionFailure() << "pair/usable/reason: " << x.pair << "/" << x.usable << "/'"
                                         << x.reason << "' vs " << y.pair << "/" << y.usable << "/'" << y.reason
                                         << "'";
  if (bits(x.observed) != bits(y.observed))
    return ::testing::AssertionFailure() << "observed " << x.observed << " vs " << y.observed;
  if (x.directions != y.directions || x.folded != y.folded ||
      bits(x.direction_observed) != bits(y.direction_observed) || x.direction_t.size() != y.direction_t.size())
    return ::testing::AssertionFailure() << "row directions " << x.direction_observed << " vs " << y.direction_observed;
  for (std::size_t k = 0; k < x.direction_t.size(); ++k)
    if (bits(x.direction_t[k]) != bits(y.direction_t[k]))
      return ::testing::AssertionFailure() << "row-direction sample " << k;
  if (bits(x.randomizer) != bits(y.randomizer))
    return ::testing::AssertionFailure() << "randomizer " << x.randomizer << " vs " << y.randomizer;
  if (x.t.size() != y.t.size())
    return ::testing::AssertionFailure() << x.t.size() << " vs " << y.t.size() << " samples";
  for (std::size_t k = 0; k < x.t.size(); ++k)
    if (bits(x.t[k]) != bits(y.t[k]))
      return ::testing::AssertionFailure() << "sample " << k << ": " << x.t[k] << " vs " << y.t[k];
  return ::testing::AssertionSuccess();
}

// Every block and null a rank returned is one the plan gave that rank.
void expect_each_unit_on_its_rank(const work_plan& plan, const std::vector<rank_results>& per_rank) {
  for (std::size_t r = 0; r < per_rank.size(); ++r) {
    for (const auto& result : per_rank[r].blocks) {
      EXPECT_GE(result.block, plan.rank_first_block[r]);
      EXPECT_LT(result.block, plan.rank_first_block[r + 1]);
    }
    for (const auto& samples : per_rank[r].nulls) {
      const auto planned = std::find_if(plan.nulls.begin(), plan.nulls.end(),
                                        [&](const null_request& q) { return q.pair == samples.pair; });
      ASSERT_NE(planned, plan.nulls.end()) << "pair " << samples.pair;
      EXPECT_EQ(plan.null_rank[static_cast<std::size_t>(planned - plan.nulls.begin())], r);
    }
  }
}

// The null samples: the same bits as one process computing every null.
void expect_nulls_as_in_one_process(const work_plan& plan, const std::vector<null_samples>& nulls,
                                    const std::filesystem::path& a, const std::filesystem::path& b) {
  const auto reference_nulls = single_process_nulls(plan);
  ASSERT_EQ(nulls.size(), plan.pairs.size());
  std::size_t usable = 0, unusable = 0;
  for (const auto& request : plan.nulls) {
    const null_samples& got = nulls[request.pair];
    EXPECT_TRUE(same_bits(got, reference_nulls[request.pair])) << plan.pairs[request.pair].a.name;
    if (got.usable) {
      ++usable;
      EXPECT_EQ(got.t.size(), request.permutations) << plan.pairs[request.pair].a.name;
    } else {
      ++unusable;
      EXPECT_EQ(got.reason, "non-finite values") << plan.pairs[request.pair].a.name;
    }
  }
  EXPECT_GT(usable, 0U);
  // Only the tensor with injected NaN/Inf (model b) has no usable null.
  EXPECT_EQ(unusable, a.filename() == "b" || b.filename() == "b" ? 1U : 0U);
}

// The plan made for one rank has the same blocks and nulls, so its merge is the same bits too.
void expect_one_rank_plan_merges_alike(const work_plan& plan, const std::vector<rank_results>& per_rank,
                                       const std::vector<pair_moments>& merged,
                                       const std::vector<null_samples>& nulls) {
  work_plan single = plan;
  assign_blocks(single, 1);
  assign_units(single, 1);
  rank_results all;
  for (const auto& results : per_rank) {
    all.blocks.insert(all.blocks.end(), results.blocks.begin(), results.blocks.end());
    all.nulls.insert(all.nulls.end(), results.nulls.begin(), results.nulls.end());
  }
  const std::vector<rank_results> as_one = {deserialize_results(serialize_results(all))};
  const auto again = merge_in_plan_order(single, as_one);
  for (std::size_t p = 0; p < merged.size(); ++p) EXPECT_TRUE(test::same_bits(merged[p], again[p]));
  const auto nulls_again = nulls_by_pair(single, as_one);
  for (std::size_t p = 0; p < nulls.size(); ++p) EXPECT_TRUE(same_bits(nulls[p], nulls_again[p]));
}

void expect_distributed_equals_single_process(const std::filesystem::path& a, const std::filesystem::path& b,
                                              std::uint64_t block_elements) {
  const communicator comm = world();
  SCOPED_TRACE(testing::Message() << a.filename() << " vs " << b.filename() << ", blocks of "
                                  << block_elements << ", " << comm.size() << " ranks, rank " << comm.rank());
  const shared_plan shared = plan_everywhere(comm, a, b, block_elements);
  if (!shared.ok) return;
  const work_plan& plan = shared.plan;
  EXPECT_EQ(plan.ranks(), comm.size());
  ASSERT_EQ(plan.null_rank.size(), plan.nulls.size());

  // Phase 2: my blocks and my nulls, and only mine.
  rank_results mine;
  std::string message = attempt([&] {
    block_reader reader(as_paths(plan.model_a.files), as_paths(plan.model_b.files));
    const auto first = plan.rank_first_block.at(static_cast<std::size_t>(comm.rank()));
    const auto last = plan.rank_first_block.at(static_cast<std::size_t>(comm.rank()) + 1);
    for (auto i = first; i < last; ++i)
      mine.blocks.push_back({i, pair_moments::from_block(reader.compute(plan.blocks[i]))});
    for (std::size_t i = 0; i < plan.nulls.size(); ++i)
      if (plan.null_rank[i] == static_cast<std::uint32_t>(comm.rank()))
        mine.nulls.push_back(compute_null(plan, i, reader));
  });
  if (!all_ok(comm, message, "computing blocks and nulls")) return;
  // With blocks of 1000 elements there are enough blocks for every rank to get some; every plan
  // here has more nulls than ranks.
  if (block_elements == 1000) {
    EXPECT_FALSE(mine.blocks.empty()) << "rank " << comm.rank() << " got no blocks";
  }
  EXPECT_FALSE(mine.nulls.empty()) << "rank " << comm.rank() << " got no nulls";

  // Phase 3: gather in rank order, merge in plan order on rank 0.
  const auto gathered = comm.gather(serialize_results(mine));
  const auto total_blocks = comm.sum(mine.blocks.size());
  const auto total_nulls = comm.sum(mine.nulls.size());
  EXPECT_EQ(total_blocks, plan.blocks.size());
  EXPECT_EQ(total_nulls, plan.nulls.size());
  if (!comm.is_root()) return;
  std::vector<rank_results> per_rank;
  for (const auto& bytes : gathered) per_rank.push_back(deserialize_results(bytes));
  ASSERT_EQ(per_rank.size(), static_cast<std::size_t>(comm.size()));
  expect_each_unit_on_its_rank(plan, per_rank);
  const auto merged = merge_in_plan_order(plan, per_rank);
  const auto reference = single_process(plan);
  ASSERT_EQ(merged.size(), reference.size());
  ASSERT_FALSE(merged.empty());
  std::uint64_t nonfinite = 0;
  for (std::size_t p = 0; p < merged.size(); ++p) {
    EXPECT_TRUE(test::same_bits(merged[p], reference[p])) << plan.pairs[p].a.name;
    EXPECT_EQ(merged[p].elements, plan.pairs[p].a.elements);
    nonfinite += merged[p].nonfinite_a + merged[p].nonfinite_b;
  }

  const auto nulls = nulls_by_pair(plan, per_rank);
  expect_nulls_as_in_one_process(plan, nulls, a, b);

  expect_one_rank_plan_merges_alike(plan, per_rank, merged, nulls);
  if (b.filename() == "b") {
    EXPECT_EQ(nonfinite, 7U);  // the injected values, counted once
  }
}

TEST_F(Reduction, DistributedMergeIsBitIdenticalToSingleProcessBlocksOf1000) {
  expect_distributed_equals_single_process(root_ / "a", root_ / "b", 1000);
  expect_distributed_equals_single_process(root_ / "a", root_ / "c", 1000);
}

TEST_F(Reduction, DistributedMergeIsBitIdenticalToSingleProcessBlocksOf4096) {
  expect_distributed_equals_single_process(root_ / "a", root_ / "b", 4096);
  expect_distributed_equals_single_process(root_ / "b", root_ / "c", 4096);
}

// The derived model is recognised as derived and the unrelated one is not (sanity of the numbers
// that went through the whole pipeline).
TEST_F(Reduction, FiguresTellDerivedFromUnrelated) {
  const communicator comm = world();
  for (const char* other : {"b", "c"}) {
    const shared_plan shared = plan_everywhere(comm, root_ / "a", root_ / other, 4096);
    if (!shared.ok) return;
    std::vector<pair_moments> merged;
    std::string message;
    if (comm.is_root()) message = attempt([&] { merged = single_process(shared.plan); });
    if (!all_ok(comm, message, "computing") || !comm.is_root()) continue;
    for (std::size_t p = 0; p < merged.size(); ++p) {
      const similarity s = derive_similarity(merged[p]);
      if (std::string(other) == "b") {
        // 1% relative noise: matrices keep Pearson ≈ 0.9999; norm weights (cv 5–20%) ≈ 0.98.
        EXPECT_GT(s.pearson, 0.95) << shared.plan.pairs[p].a.name;
      } else if (shared.plan.pairs[p].a.elements >= 4096) {
        EXPECT_LT(std::fabs(s.pearson), 0.1) << shared.plan.pairs[p].a.name;
      }
    }
  }
}

// The product's own job: same merged numbers in report.json, whatever the rank count; and a bad
// input fails on every rank with the same status.
TEST_F(Reduction, CompareJobReportsTheMergedFigures) {
  const communicator comm = world();
  std::string out = comm.is_root() ? (root_ / ("out-" + std::to_string(comm.size()))).string() : "";
  comm.broadcast(out);
  compare_request request;
  request.arguments.model_a = (root_ / "a").string();
  request.arguments.model_b = (root_ / "b").string();
  request.arguments.output_dir = out;
  request.arguments.block_elements = 1000;
  request.command_line = "lineage compare (test)";
  int status = -1;
  const std::string message = attempt([&] { status = run_compare_job(comm, request); });
  if (!all_ok(comm, message, "run_compare_job")) return;
  EXPECT_EQ(status, 0);
  const int worst = comm.max(status), best = -comm.max(-status);
  EXPECT_EQ(worst, best) << "ranks disagree on the exit status";

  const shared_plan shared = plan_everywhere(comm, root_ / "a", root_ / "b", 1000, null_options{});
  // No collective follows: rank 0 checks the report alone.
  if (!shared.ok || !comm.is_root()) return;
  const auto reference = single_process(shared.plan);
  const auto reference_nulls = single_process_nulls(shared.plan);
  std::ifstream in(std::filesystem::path(out) / "report.json");
  ASSERT_TRUE(in.good()) << "no report.json in " << out;
  const nlohmann::json report = nlohmann::json::parse(in);
  EXPECT_EQ(report.at("status"), "compared");
  EXPECT_EQ(report.at("manifest").at("ranks"), comm.size());
  EXPECT_EQ(report.at("summary").at("tensors_with_nonfinite"), 1);
  ASSERT_EQ(report.at("tensors").size(), reference.size());
  for (std::size_t p = 0; p < reference.size(); ++p) {
    const auto& row = report.at("tensors")[p];
    const similarity s = derive_similarity(reference[p]);
    EXPECT_EQ(row.at("a"), shared.plan.pairs[p].a.name);
    EXPECT_EQ(row.at("n"), reference[p].count);
    EXPECT_EQ(row.at("pearson").get<double>(), s.pearson) << shared.plan.pairs[p].a.name;
    EXPECT_EQ(row.at("cosine").get<double>(), s.cosine) << shared.plan.pairs[p].a.name;
    // The job's default seed and permutation counts: the same null, hence the same p.
    const null_figures null = derive_null_figures(reference_nulls[p], reference[p], s.pearson, 0.01,
                                                  permuted_axis_text(shared.plan.pairs[p]));
    EXPECT_EQ(row.at("null").at("available"), null.available) << shared.plan.pairs[p].a.name;
    if (null.available) {
      EXPECT_EQ(row.at("p_value").get<double>(), null.p_value) << shared.plan.pairs[p].a.name;
      EXPECT_EQ(row.at("null").at("z").get<double>(), null.z) << shared.plan.pairs[p].a.name;
    } else {
      EXPECT_EQ(row.at("null").at("reason"), "non-finite values") << shared.plan.pairs[p].a.name;
    }
  }
  // A derived model with noise: derived at the default α.
  EXPECT_EQ(report.at("verdict").at("label"), "derived");
}

TEST_F(Reduction, CompareJobFailsTogetherOnBadInput) {
  const communicator comm = world();
  compare_request request;
  request.arguments.model_a = (root_ / "does-not-exist").string();
  request.arguments.model_b = (root_ / "b").string();
  std::string out = comm.is_root() ? (root_ / "out-bad").string() : "";
  comm.broadcast(out);
  request.arguments.output_dir = out;
  int status = -1;
  const std::string message = attempt([&] { status = run_compare_job(comm, request); });
  if (!all_ok(comm, message, "run_compare_job")) return;
  EXPECT_EQ(status, static_cast<int>(exit_status::bad_input));
  const int worst = comm.max(status), best = -comm.max(-status);
  EXPECT_EQ(worst, best) << "ranks disagree on the exit status";
}

}  // namespace
}  // namespace lineage
