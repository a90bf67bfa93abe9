// The saved work of an interrupted job (job/saved_work): a round trip, and every check that makes
// a damaged, truncated, foreign or mismatched file be refused with a message naming it.
#include <gtest/gtest.h>

#include <boost/archive/archive_exception.hpp>
#include <boost/archive/binary_oarchive.hpp>
#include <boost/iostreams/device/array.hpp>
#include <boost/iostreams/device/back_inserter.hpp>
#include <boost/iostreams/stream.hpp>
#include <boost/serialization/vector.hpp>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "core/error.hpp"
#include "job/saved_work.hpp"
#include "shard/bounded_archive.hpp"

namespace lineage {
namespace {

namespace fs = std::filesystem;

class SavedWork : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lineage-saved-work-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                        "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static saved_comparison state() {
    saved_comparison s;
    s.plan_digest = 0xfeedface12345678ull;
    s.shares.push_back({3, {'a', 'b', 'c'}});
    s.shares.push_back({0, {}});
    return s;
  }

  std::string file_bytes(const fs::path& path) const {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void write_bytes(const fs::path& path, const std::string& bytes) const {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }

  fs::path dir_;
};

TEST_F(SavedWork, RoundTripsAStateForTheSameFingerprintAndRanks) {
  const saved_work saved(dir_);
  saved.save(1, 0x1234, state());
  EXPECT_TRUE(fs::exists(dir_ / ".lineage-resume" / "comparison-1.state"));
  std::string rejected;
  const auto loaded = saved.load(1, 0x1234, 2, rejected);
  ASSERT_TRUE(loaded.has_value()) << rejected;
  EXPECT_EQ(rejected, "");
  EXPECT_EQ(loaded->plan_digest, state().plan_digest);
  ASSERT_EQ(loaded->shares.size(), 2u);
  EXPECT_EQ(loaded->shares[0].units_done, 3u);
  EXPECT_EQ(loaded->shares[0].results, (std::vector<char>{'a', 'b', 'c'}));
  EXPECT_EQ(loaded->shares[1].units_done, 0u);
  // Another comparison of the job has no file: nothing to say.
  EXPECT_FALSE(saved.load(0, 0x1234, 2, rejected).has_value());
  EXPECT_EQ(rejected, "");
}

TEST_F(SavedWork, RefusesAnotherJobsFingerprintOrRankCount) {
  const saved_work saved(dir_);
  saved.save(0, 0x1234, state());
  std::string rejected;
  EXPECT_FALSE(saved.load(0, 0x9999, 2, rejected).has_value());
  EXPECT_NE(rejected.find("comparison-0.state"), std::string::npos) << rejected;
  EXPECT_NE(rejected.find("other inputs"), std::string::npos) << rejected;
  EXPECT_FALSE(saved.load(0, 0x1234, 3, rejected).has_value());
  EXPECT_NE(rejected.find("2 ranks, this one has 3"), std::string::npos) << rejected;
}

TEST_F(SavedWork, RefusesADamagedTruncatedOrForeignFile) {
  const saved_work saved(dir_);
  saved.save(0, 7, state());
  const fs::path file = saved.file_of(0);
  const std::string good = file_bytes(file);
  std::string rejected;

  std::string damaged = good;
  damaged[damaged.size() - 2] ^= 0x01;
  write_bytes(file, damaged);
  EXPECT_FALSE(saved.load(0, 7, 2, rejected).has_value());
  EXPECT_NE(rejected.find("checksum mismatch"), std::string::npos) << rejected;

  write_bytes(file, good.substr(0, good.size() - 5));
  EXPECT_FALSE(saved.load(0, 7, 2, rejected).has_value());
  EXPECT_NE(rejected.find("truncated"), std::string::npos) << rejected;

  write_bytes(file, good.substr(0, 10));
  EXPECT_FALSE(saved.load(0, 7, 2, rejected).has_value());
  EXPECT_NE(rejected.find("not a lineage saved-work file"), std::string::npos) << rejected;

  write_bytes(file, "something else entirely, long enough to hold a header of a saved-work file");
  EXPECT_FALSE(saved.load(0, 7, 2, rejected).has_value());
  EXPECT_NE(rejected.find("not a lineage saved-work file"), std::string::npos) << rejected;

  write_bytes(file, good);
  EXPECT_TRUE(saved.load(0, 7, 2, rejected).has_value()) << rejected;
}

// Issue 18 (found by fuzz_resume_state): the plain binary archive resized a vector to the count the
// bytes gave before reading an element; the bounded one refuses a count larger than the archive.
TEST(BoundedArchive, RefusesACountLargerThanItsBytesBeforeAllocating) {
  std::string bytes;
  {
    boost::iostreams::stream<boost::iostreams::back_insert_device<std::string>> out(bytes);
    boost::archive::binary_oarchive archive(out, boost::archive::no_header);
    const std::vector<std::uint64_t> values = {1, 2, 3};
    archive << values;
  }
  const auto read = [](const std::string& from) {
    boost::iostreams::stream<boost::iostreams::array_source> in(from.data(), from.size());
    bounded_iarchive archive(*in.rdbuf(), from.size());
    std::vector<std::uint64_t> values;
    archive >> values;
    return values;
  };
  EXPECT_EQ(read(bytes), (std::vector<std::uint64_t>{1, 2, 3}));
  std::string hostile = bytes;
  const std::uint64_t huge = std::uint64_t{1} << 40;  // 8 TiB of elements, in a 32-byte archive
  std::memcpy(hostile.data(), &huge, sizeof huge);
  EXPECT_THROW((void)read(hostile), boost::archive::archive_exception);
}

// Issue 18 (found by fuzz_resume_state in the long run): a bool read from a byte other than 0 or 1
// is undefined behaviour (UBSan: "load of value 255, which is not a valid value for type 'bool'").
TEST(BoundedArchive, RefusesABoolStoredAsAnotherByteThanZeroOrOne) {
  std::string bytes;
  {
    boost::iostreams::stream<boost::iostreams::back_insert_device<std::string>> out(bytes);
    boost::archive::binary_oarchive archive(out, boost::archive::no_header);
    const bool yes = true, no = false;
    archive << yes << no;
  }
  ASSERT_EQ(bytes, std::string("\x01\x00", 2));
  const auto read = [](const std::string& from) {
    boost::iostreams::stream<boost::iostreams::array_source> in(from.data(), from.size());
    bounded_iarchive archive(*in.rdbuf(), from.size());
    bool first = false, second = true;
    archive >> first >> second;
    return std::make_pair(first, second);
  };
  EXPECT_EQ(read(bytes), std::make_pair(true, false));
  for (const char hostile : {'\x02', '\xff'}) {
    std::string damaged = bytes;
    damaged[0] = hostile;
    EXPECT_THROW((void)read(damaged), boost::archive::archive_exception);
  }
}

TEST_F(SavedWork, RemoveAllLeavesNoDirectory) {
  const saved_work saved(dir_);
  saved.save(0, 1, state());
  saved.save(3, 1, state());
  saved.remove_all();
  EXPECT_FALSE(fs::exists(dir_ / ".lineage-resume"));
  saved.remove_all();  // nothing there: no error
}

TEST_F(SavedWork, FingerprintFollowsThePlanTheConfigAndTheModelFiles) {
  work_plan plan;
  const fs::path model_file = dir_ / "model.safetensors";
  write_bytes(model_file, "0123456789");
  plan.model_a.files = {model_file.string()};
  plan.model_b.files = {model_file.string()};
  const std::vector<char> initial{'x'};
  const auto base = comparison_fingerprint(initial, plan, "{}");
  EXPECT_EQ(comparison_fingerprint(initial, plan, "{}"), base);
  EXPECT_NE(comparison_fingerprint({'y'}, plan, "{}"), base);
  EXPECT_NE(comparison_fingerprint(initial, plan, "{\"alpha\":0.01}"), base);
  write_bytes(model_file, "01234567890");  // another size
  EXPECT_NE(comparison_fingerprint(initial, plan, "{}"), base);
  plan.model_b.files = {(dir_ / "missing.safetensors").string()};
  EXPECT_THROW((void)comparison_fingerprint(initial, plan, "{}"), input_error);
}

}  // namespace
}  // namespace lineage
