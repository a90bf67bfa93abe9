// read_only_file and mapped_range: exact bytes at unaligned offsets, bounds checked against the
// file, and refusal of things that are not regular files.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <string>
#include <utility>

#include "safetensors_fixture.hpp"
#include "checkpoint/mapped_file.hpp"

namespace lineage {
namespace {

using test::throws_input_error;

class MappedFile : public ::testing::Test {
 protected:
  void SetUp() override {
    // A few pages of a pattern that repeats every 251 bytes, so no page looks like another.
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    contents_.resize(3 * page + 123);
    for (std::size_t i = 0; i < contents_.size(); ++i) contents_[i] = static_cast<char>(i % 251);
    path_ = test::write_file(dir_ / "data.bin", contents_);
  }
  std::string bytes_of(std::span<const std::byte> span) const {
    return {reinterpret_cast<const char*>(span.data()), span.size()};
  }

  test::temp_directory dir_;
  std::string contents_;
  std::filesystem::path path_;
};

TEST_F(MappedFile, UnalignedRangesGiveExactlyTheRequestedBytes) {
  const read_only_file file(path_);
  ASSERT_EQ(file.size(), contents_.size());
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::array<std::pair<std::uint64_t, std::uint64_t>, 6> ranges = {
      {{0, 1},
       {1, 10},
       {page - 1, 2},
       {page + 1, 2 * page},
       {3 * page, 123},
       {5, contents_.size() - 5}}};
  for (const auto& [offset, length] : ranges) {
    const mapped_range range(file, offset, length);
    ASSERT_EQ(range.bytes().size(), length) << offset;
    EXPECT_EQ(bytes_of(range.bytes()), contents_.substr(offset, length)) << offset;
  }
}

TEST_F(MappedFile, EmptyRangesNeedNoMapping) {
  const read_only_file file(path_);
  EXPECT_TRUE(mapped_range(file, 0, 0).bytes().empty());
  EXPECT_TRUE(mapped_range(file, file.size(), 0).bytes().empty());
  const auto empty = test::write_file(dir_ / "empty.bin", "");
  const read_only_file empty_file(empty);
  EXPECT_TRUE(mapped_range(empty_file, 0, 0).bytes().empty());
}

TEST_F(MappedFile, RangeBeyondEndOfFileThrows) {
  const read_only_file file(path_);
  EXPECT_TRUE(throws_input_error([&] { (void)mapped_range(file, file.size() - 1, 2); },
                                 {path_.string(), "cannot map"}));
  EXPECT_TRUE(
      throws_input_error([&] { (void)mapped_range(file, file.size() + 1, 0); }, {path_.string()}));
  // offset + length wraps around 2^64.
  EXPECT_TRUE(throws_input_error([&] { (void)mapped_range(file, 16, ~std::uint64_t{0}); },
                                 {path_.string()}));
}

TEST_F(MappedFile, MoveTransfersTheMapping) {
  const read_only_file file(path_);
  mapped_range first(file, 7, 100);
  mapped_range second(std::move(first));
  EXPECT_TRUE(first.bytes().empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(bytes_of(second.bytes()), contents_.substr(7, 100));
  mapped_range third(file, 0, 0);
  third = std::move(second);
  EXPECT_EQ(bytes_of(third.bytes()), contents_.substr(7, 100));
}

TEST_F(MappedFile, ReadExactReadsAtOffset) {
  const read_only_file file(path_);
  std::array<std::byte, 300> buffer{};
  file.read_exact(4000, buffer);
  EXPECT_EQ(bytes_of(buffer), contents_.substr(4000, 300));
}

TEST_F(MappedFile, ReadExactBeyondEndOfFileThrows) {
  const read_only_file file(path_);
  std::array<std::byte, 16> buffer{};
  EXPECT_TRUE(throws_input_error([&] { file.read_exact(file.size() - 8, buffer); },
                                 {path_.string(), "only"}));
  EXPECT_TRUE(throws_input_error([&] { file.read_exact(~std::uint64_t{0} - 4, buffer); },
                                 {path_.string()}));
}

TEST_F(MappedFile, RejectsMissingFile) {
  EXPECT_TRUE(throws_input_error([&] { read_only_file file(dir_ / "absent.bin"); },
                                 {(dir_ / "absent.bin").string(), "no such file or directory"}));
}

TEST_F(MappedFile, RejectsDirectory) {
  EXPECT_TRUE(throws_input_error([&] { read_only_file file(dir_.path()); },
                                 {dir_.path().string(), "not a regular file"}));
}

TEST_F(MappedFile, RejectsFifoWithoutWaitingForAWriter) {
  const auto fifo = dir_ / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_TRUE(throws_input_error([&] { read_only_file file(fifo); },
                                 {fifo.string(), "not a regular file"}));
}

// Issue 18, defect 3: a checkpoint that shrinks while it is mapped. Reading the mapped bytes past
// its new end raised SIGBUS (exit 135); now the pages read as zeros and the next check throws
// input_error naming the file, as a pread of it would.
TEST_F(MappedFile, AFileThatShrinksWhileMappedIsAnInputErrorNotABusError) {
  const read_only_file file(path_);
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::string seen;
  {
    const mapped_range range(file, 0, contents_.size());
    ASSERT_EQ(::truncate(path_.c_str(), static_cast<off_t>(page)), 0);
    const std::span<const std::byte> bytes = range.bytes();
    for (const std::byte b : bytes) seen.push_back(static_cast<char>(b));  // faults past the first page
    EXPECT_EQ(seen.substr(0, page), contents_.substr(0, page));
    EXPECT_EQ(seen.substr(2 * page), std::string(contents_.size() - 2 * page, '\0'));
    EXPECT_TRUE(throws_input_error([] { throw_if_a_mapping_faulted(); }, {path_.string(), "shrank", std::to_string(page) + " bytes now"}));
  }
  throw_if_a_mapping_faulted();  // reported once: nothing pending now
  // A fault noticed only after its mapping is gone is still reported.
  test::write_file(path_, contents_);
  const read_only_file again(path_);
  {
    const mapped_range range(again, 0, contents_.size());
    ASSERT_EQ(::truncate(path_.c_str(), 0), 0);
    volatile char last = static_cast<char>(range.bytes().back());
    (void)last;
  }
  EXPECT_TRUE(throws_input_error([] { throw_if_a_mapping_faulted(); }, {path_.string(), "shrank"}));
}

}  // namespace
}  // namespace lineage
