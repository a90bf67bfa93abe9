// probe/: the speed probe's copies run as forked processes and report their timings (or their
// failure), a comparison's units are timed by kind against the plan's estimate, and the probe
// measures every kind in a scratch directory that it leaves as it found.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "core/error.hpp"
#include "job/comparison_steps.hpp"
#include "probe/concurrent_runs.hpp"
#include "probe/speed_probe.hpp"
#include "probe/unit_timing.hpp"
#include "safetensors_fixture.hpp"
#include "synth/synth.hpp"

namespace lineage {
namespace {

comparison_timing stamped() {
  comparison_timing t;
  t.phases.matching = static_cast<double>(::getpid());
  t.of(unit_kind::head_match).measured = 1.5;
  return t;
}

TEST(ConcurrentRuns, EveryProcessReportsItsOwnTimingsThisOneFirst) {
  const std::vector<comparison_timing> each = run_concurrently(3, stamped);
  ASSERT_EQ(each.size(), 3u);
  EXPECT_EQ(each[0].phases.matching, static_cast<double>(::getpid()));
  std::set<double> processes;
  for (const comparison_timing& t : each) {
    processes.insert(t.phases.matching);
    EXPECT_EQ(t.of(unit_kind::head_match).measured, 1.5);  // every field crosses the pipe
  }
  EXPECT_EQ(processes.size(), 3u);
}

TEST(ConcurrentRuns, AChildsFailureIsThrownWithItsMessage) {
  const pid_t parent = ::getpid();
  const auto fails_in_children = [parent]() -> comparison_timing {
    if (::getpid() != parent) throw input_error("child could not write its pair");
    return {};
  };
  try {
    (void)run_concurrently(2, fails_in_children);
    FAIL() << "no error";
  } catch (const internal_error& e) {
    EXPECT_NE(std::string(e.what()).find("child could not write its pair"), std::string::npos) << e.what();
  }
  // This process's own failure is rethrown as it was, after the children are reaped.
  const auto fails_here = [parent]() -> comparison_timing {
    if (::getpid() == parent) throw input_error("this one failed");
    return {};
  };
  EXPECT_THROW((void)run_concurrently(2, fails_here), input_error);
}

class ProbeTest : public ::testing::Test {
 protected:
  test::temp_directory dir_;
};

TEST_F(ProbeTest, EveryUnitIsTimedByKindAndThePlanningSpreadOverTheMatching) {
  synth::model_shape shape;  // 4 layers, hidden 256, MLP 688
  synth::write_independent_model(shape, 7, dir_ / "A", {});
  synth::derivation noise;
  noise.kind = synth::derivation_kind::noise;
  synth::write_derived_model(dir_ / "A", dir_ / "B", noise);
  compare_arguments arguments;
  arguments.model_a = (dir_ / "A").string();
  arguments.model_b = (dir_ / "B").string();
  arguments.output_dir = (dir_ / "out").string();
  const compare_config config = resolve_compare_config(arguments);
  const comparison_timing t = time_comparison(config);
  // The kinds of a dense pair's default comparison, each with its units' estimate and time.
  for (const unit_kind kind : {unit_kind::null_cyclic, unit_kind::null_products, unit_kind::cross_layer,
                               unit_kind::neuron_match, unit_kind::head_match, unit_kind::hidden_match}) {
    SCOPED_TRACE(std::string(unit_kind_name(kind)));
    EXPECT_GT(t.of(kind).units, 0u);
    EXPECT_GT(t.of(kind).estimated, 0);
    EXPECT_GT(t.of(kind).measured, 0);
  }
  for (const unit_kind kind : {unit_kind::fingerprint, unit_kind::expert_match, unit_kind::hidden_rotation})
    EXPECT_EQ(t.of(kind).units, 0u) << unit_kind_name(kind);
  double matching = 0, nulls = 0;
  for (const unit_kind kind : {unit_kind::head_match, unit_kind::hidden_match}) matching += t.of(kind).measured;
  for (const unit_kind kind : {unit_kind::null_cyclic, unit_kind::null_products}) nulls += t.of(kind).measured;
  EXPECT_NEAR(matching, t.phases.matching, 1e-9 * t.phases.matching);
  EXPECT_NEAR(nulls, t.phases.nulls, 1e-9 * t.phases.nulls);
  // Every paired byte is read by a block: 4 bytes per BF16 element pair.
  const work_plan plan = plan_comparison(config, 1);
  EXPECT_EQ(t.block_bytes, static_cast<double>(plan.total_bytes()));
  EXPECT_GT(t.block_seconds, 0);
}

TEST_F(ProbeTest, TheProbeMeasuresEveryKindAndLeavesItsScratchDirectoryEmpty) {
  // One run per process (lineage plan takes three): the sanitizer build runs this too.
  const speed_probe_result probe = measure_speed(dir_.path(), 2, 1);
  EXPECT_EQ(probe.runs, 1);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path()));
  EXPECT_EQ(probe.processes, 2);
  EXPECT_GT(probe.blocks, 0);
  for (std::size_t k = 0; k < unit_kind_count; ++k) {
    SCOPED_TRACE(std::string(unit_kind_name(static_cast<unit_kind>(k))));
    EXPECT_TRUE(std::isfinite(probe.speed.factors[k]) && probe.speed.factors[k] > 0);
    // A kind the probe pair has no unit of borrows; every other kind was timed and has a reference.
    const bool timed = probe.timing.kinds[k].units > 0 && reference_ratio(static_cast<unit_kind>(k)) > 0;
    EXPECT_NE(probe.borrowed[k], timed);
  }
  for (const unit_kind kind : {unit_kind::fingerprint, unit_kind::expert_match, unit_kind::hidden_rotation,
                               unit_kind::null_rows, unit_kind::null_columns})
    EXPECT_TRUE(probe.borrowed[static_cast<std::size_t>(kind)]) << unit_kind_name(kind);
}

TEST(Probe, AScratchDirectoryThatCannotBeWrittenIsNamed) {
  const std::filesystem::path missing = "/nonexistent-lineage-scratch/inner";
  try {
    (void)measure_speed(missing);
    FAIL() << "no error";
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lineage
