// Rank 0's progress display (job/progress_meter): the text of a line, the bar, log lines at their
// interval and the last line.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "core/error.hpp"
#include "job/progress_meter.hpp"

namespace lineage {
namespace {

TEST(ProgressText, GivesPercentBytesUnitsRateAndTimeLeft) {
  progress_state state;
  state.bytes_total = 30'000'000'000;
  state.bytes_done = 12'000'000'000;
  state.units_total = 2000;
  state.units_done = 800;
  state.seconds = 4;  // 12 GB in 4 s: 3 GB/s, 18 GB left: 6 s
  const std::string text = progress_text(state);
  EXPECT_NE(text.find("40.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("800 of 2000 units"), std::string::npos) << text;
  EXPECT_NE(text.find("3.00 GB/s"), std::string::npos) << text;
  EXPECT_NE(text.find("6 s left"), std::string::npos) << text;
}

TEST(ProgressText, CountsOnlyThisRunsBytesInTheRate) {
  progress_state state;
  state.bytes_total = 10'000'000'000;
  state.bytes_at_start = 6'000'000'000;  // resumed
  state.bytes_done = 8'000'000'000;
  state.units_total = 10;
  state.units_done = 8;
  state.seconds = 2;  // 2 GB of this run in 2 s
  const std::string text = progress_text(state);
  EXPECT_NE(text.find("80.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("1.00 GB/s"), std::string::npos) << text;
  EXPECT_NE(text.find("2 s left"), std::string::npos) << text;
}

TEST(ProgressBar, FillsItsCellsByTheFractionDone) {
  progress_state state;
  state.bytes_total = 100;
  state.bytes_done = 50;
  EXPECT_EQ(progress_bar(state, 10), "[#####.....]");
  state.bytes_done = 100;
  EXPECT_EQ(progress_bar(state, 4), "[####]");
  state.bytes_done = 0;
  EXPECT_EQ(progress_bar(state, 4), "[....]");
}

TEST(ProgressStyle, ParsesItsNamesAndNamesTheFlagOtherwise) {
  EXPECT_EQ(parse_progress_style("auto", "--progress"), progress_style::automatic);
  EXPECT_EQ(parse_progress_style("bar", "--progress"), progress_style::bar);
  EXPECT_EQ(parse_progress_style("log", "--progress"), progress_style::log);
  EXPECT_EQ(parse_progress_style("none", "--progress"), progress_style::none);
  try {
    (void)parse_progress_style("loud", "--progress");
    FAIL() << "no error";
  } catch (const usage_error& e) {
    EXPECT_NE(std::string(e.what()).find("--progress"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("loud"), std::string::npos) << e.what();
  }
}

TEST(ProgressMeter, LogStyleWritesLinesAtItsIntervalAndALastLine) {
  std::ostringstream out;
  progress_meter meter(out, "model A vs model B", progress_style::automatic, false, 0.0, 1000, 10, 0, 0);
  meter.update(500, 5);  // interval 0: every update is shown
  meter.finish("done");
  const std::string text = out.str();
  EXPECT_NE(text.find("lineage: progress: model A vs model B: 50.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("lineage: progress: model A vs model B: done, 5 of 10 units"), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos) << "a log has no carriage returns";

  std::ostringstream quiet;
  progress_meter hourly(quiet, "x", progress_style::log, false, 3600, 1000, 10, 0, 0);
  hourly.update(500, 5);
  hourly.abandon();
  EXPECT_EQ(quiet.str(), "") << "nothing before the interval, nothing after a failure";

  std::ostringstream brief;
  progress_meter short_phase(brief, "x", progress_style::log, false, 3600, 1000, 10, 0, 0);
  short_phase.update(1000, 10);
  short_phase.finish("done");
  EXPECT_EQ(brief.str(), "") << "a phase shorter than the interval writes no log line at all";
}

TEST(ProgressMeter, BarStyleRedrawsOneLine) {
  std::ostringstream out;
  progress_meter meter(out, "pair", progress_style::automatic, true, 60, 1000, 10, 0, 0);
  meter.update(1000, 10);
  meter.finish("done");
  const std::string text = out.str();
  EXPECT_NE(text.find('\r'), std::string::npos) << text;
  EXPECT_EQ(text.find("lineage: progress:"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace lineage
