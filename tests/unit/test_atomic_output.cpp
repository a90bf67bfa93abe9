// Outputs appear under their final name only when complete, and a failed write names that final
// name (not the temporary one) with the system's reason.
#include "core/atomic_output.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "core/error.hpp"
#include "tests/unit/stats_test_support.hpp"

namespace lineage {
namespace {

std::string contents(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(AtomicOutput, TheFinalNameAppearsOnlyOnCommit) {
  const test::scratch_directory dir("atomic");
  const auto path = dir.path() / "report.json";
  {
    atomic_output output(path);
    output.write("{}");
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_EQ(contents(output.temporary_path()), "{}");
    output.commit();
  }
  EXPECT_EQ(contents(path), "{}");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), std::filesystem::directory_iterator()), 1);
}

TEST(AtomicOutput, AnUncommittedOutputLeavesNothingBehind) {
  const test::scratch_directory dir("atomic");
  { atomic_output(dir.path() / "report.h5").write("partial"); }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

// /dev/full refuses every write with ENOSPC, as a full file system does.
TEST(AtomicOutput, AFullDiskIsAnErrorNamingTheFinalFile) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full here";
  try {
    write_file("/dev/full", std::string(1 << 16, 'x'), "out/.lineage-resume/comparison-0.state");
    FAIL() << "a write to /dev/full succeeded";
  } catch (const input_error& e) {
    EXPECT_STREQ(e.what(), "out/.lineage-resume/comparison-0.state: write failed: No space left on device");
  }
}

TEST(AtomicOutput, AnUnwritableDirectoryIsAnErrorNamingTheFinalFile) {
  const test::scratch_directory dir("atomic");
  const auto path = dir.path() / "missing" / "report.md";
  try {
    write_file_atomically(path, "# report");
    FAIL() << "a file was written into a missing directory";
  } catch (const input_error& e) {
    EXPECT_EQ(std::string(e.what()), path.string() + ": cannot create file: No such file or directory");
  }
}

}  // namespace
}  // namespace lineage
