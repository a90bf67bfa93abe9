// Byte sources (shard/byte_source): the same bytes mapped, read or in memory; checked ranges; a
// mapped window that really gives back its pages (resident memory measured from /proc); and
// permutation nulls whose bits are the same whether they decode whole or row by row, map or read,
// with B read through an alignment or not.
#include <gtest/gtest.h>

#include <bit>
#include <iostream>
#include <unistd.h>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <vector>

#include "checkpoint/mapped_file.hpp"
#include "core/error.hpp"
#include "core/resource_usage.hpp"
#include "shard/byte_source.hpp"
#include "shard/permutation_null.hpp"

namespace lineage {
namespace {

std::vector<std::byte> random_bytes(std::size_t count, unsigned seed) {
  std::mt19937 engine(seed);
  std::vector<std::byte> out(count);
  for (auto& b : out) b = static_cast<std::byte>(engine() & 0xff);
  return out;
}

// F32 values in [-1, 1] as bytes.
std::vector<std::byte> float_bytes(std::size_t count, unsigned seed) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<std::byte> out(count * sizeof(float));
  for (std::size_t i = 0; i < count; ++i) {
    const float v = uniform(engine);
    std::memcpy(out.data() + i * sizeof(float), &v, sizeof v);
  }
  return out;
}

class temporary_file {
 public:
  explicit temporary_file(std::span<const std::byte> bytes) {
    path_ = std::filesystem::temp_directory_path() /
            ("lineage-byte-source-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    std::ofstream out(path_, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  ~temporary_file() { std::filesystem::remove(path_); }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

TEST(ByteSource, MappedReadAndInMemoryPiecesAreTheSameBytes) {
  const auto bytes = random_bytes(100'003, 1);
  const temporary_file file(bytes);
  const read_only_file opened(file.path());
  const std::uint64_t offset = 4099, length = 90'000;
  byte_source mapped(opened, offset, length, {read_method::map, 0});
  byte_source windowed(opened, offset, length, {read_method::map, 4096});
  byte_source read(opened, offset, length, {read_method::read, 0});
  byte_source memory(std::span<const std::byte>(bytes).subspan(offset, length));
  EXPECT_EQ(mapped.size(), length);
  EXPECT_EQ(read.size(), length);
  EXPECT_EQ(memory.size(), length);
  std::mt19937 engine(2);
  for (int k = 0; k < 200; ++k) {
    const std::uint64_t begin = engine() % length, count = engine() % (length - begin + 1);
    const std::span<const std::byte> expected(bytes.data() + offset + begin, count);
    for (byte_source* source : {&mapped, &windowed, &read, &memory}) {
      const auto piece = source->piece(begin, count);
      ASSERT_EQ(piece.size(), count);
      EXPECT_TRUE(std::equal(piece.begin(), piece.end(), expected.begin()));
    }
  }
}

TEST(ByteSource, PiecesOfAReleasedWindowStayReadable) {
  constexpr std::uint64_t piece = smallest_mapped_piece;
  const auto bytes = random_bytes(16 << 20, 3);
  const temporary_file file(bytes);
  const read_only_file opened(file.path());
  byte_source source(opened, 0, bytes.size(), {read_method::map, 4 << 20});
  const auto first = source.piece(0, piece);
  for (std::uint64_t at = piece; at + piece <= bytes.size(); at += piece) (void)source.piece(at, piece);
  source.release();
  EXPECT_TRUE(std::equal(first.begin(), first.end(), bytes.begin()));  // faulted back in from the file
}

TEST(ByteSource, RangesBeyondTheFileOrThePieceAreRefused) {
  const auto bytes = random_bytes(1000, 4);
  const temporary_file file(bytes);
  const read_only_file opened(file.path());
  for (const read_method method : {read_method::map, read_method::read}) {
    try {
      byte_source source(opened, 900, 200, {method, 0});
      ADD_FAILURE() << "a range beyond the end of the file was accepted";
    } catch (const input_error& error) {
      EXPECT_NE(std::string(error.what()).find(file.path().string()), std::string::npos) << error.what();
      EXPECT_NE(std::string(error.what()).find("truncated"), std::string::npos) << error.what();
    }
    byte_source source(opened, 100, 800, {method, 0});
    EXPECT_THROW((void)source.piece(700, 101), internal_error);
    EXPECT_NO_THROW((void)source.piece(700, 100));
  }
}

// Reading all of a 96 MiB mapping keeps it resident; through an 8 MiB window only about a window
// stays, whether the pieces are large (mapped, released) or rows (read with pread) (measured in
// /proc/self/statm, which counts mapped file pages).
TEST(ByteSource, AWindowBoundsTheResidentPagesOfAMapping) {
  constexpr std::size_t size = std::size_t{96} << 20, window = std::size_t{8} << 20;
  const auto bytes = random_bytes(size, 5);
  const temporary_file file(bytes);
  const read_only_file opened(file.path());
  std::size_t piece = std::size_t{1} << 20;
  const auto touch_all = [&](byte_source& source) {
    volatile std::uint8_t sink = 0;
    for (std::uint64_t at = 0; at < size; at += piece)
      for (const std::byte b : source.piece(at, piece)) sink = sink + static_cast<std::uint8_t>(b);
  };
  std::uint64_t unbounded_growth = 0, windowed_growth = 0;
  {
    byte_source source(opened, 0, size, {read_method::map, 0});
    const std::uint64_t before = current_resident_bytes();
    touch_all(source);
    unbounded_growth = current_resident_bytes() - before;
  }
  for (const std::size_t size_of_piece : {std::size_t{1} << 20, std::size_t{8} << 10}) {  // large; rows
    piece = size_of_piece;
    byte_source source(opened, 0, size, {read_method::map, window});
    const std::uint64_t before = current_resident_bytes();
    touch_all(source);
    const std::uint64_t after = current_resident_bytes();
    windowed_growth = after > before ? after - before : 0;
    std::cout << "resident growth over a 96 MiB mapping: " << (unbounded_growth >> 20) << " MiB unbounded, "
              << (windowed_growth >> 20) << " MiB through an 8 MiB window in pieces of " << (piece >> 10) << " KiB\n";
    EXPECT_GT(unbounded_growth, size / 2);
    EXPECT_LE(windowed_growth, window + (std::size_t{4} << 20));
  }
}

// --- permutation nulls read any way give the same bits --------------------------------------------

void expect_same_bits(const null_samples& x, const null_samples& y) {
  ASSERT_TRUE(x.usable && y.usable);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(x.observed), std::bit_cast<std::uint64_t>(y.observed));
  ASSERT_EQ(x.t.size(), y.t.size());
  for (std::size_t k = 0; k < x.t.size(); ++k)
    EXPECT_EQ(std::bit_cast<std::uint64_t>(x.t[k]), std::bit_cast<std::uint64_t>(y.t[k])) << k;
  ASSERT_EQ(x.direction_t.size(), y.direction_t.size());
  EXPECT_EQ(std::bit_cast<std::uint64_t>(x.direction_observed), std::bit_cast<std::uint64_t>(y.direction_observed));
  for (std::size_t k = 0; k < x.direction_t.size(); ++k)
    EXPECT_EQ(std::bit_cast<std::uint64_t>(x.direction_t[k]), std::bit_cast<std::uint64_t>(y.direction_t[k])) << k;
  EXPECT_EQ(x.subset, y.subset);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(x.tested.c_ab), std::bit_cast<std::uint64_t>(y.tested.c_ab));
}

TEST(ByteSource, NullsHaveTheSameBitsDecodedWholeOrRowByRowMappedOrRead) {
  constexpr std::uint64_t rows = 64, length = 48;
  const auto a = float_bytes(rows * length, 6), b = float_bytes(rows * length, 7);
  std::vector<std::byte> both(a);
  both.insert(both.end(), b.begin(), b.end());
  const temporary_file file(both);
  const read_only_file opened(file.path());

  // A plain matrix null with directions, one with rows left out (a subset), and one reading B
  // through an alignment (rows and columns reordered, some negated).
  null_request plain;
  plain.a.type = plain.b.type = dtype::f32;
  plain.rows = rows;
  plain.row_length = length;
  plain.permutations = 37;
  plain.seed = 99;
  plain.group = {symmetry_group::form::plain, rows, 0, 1, 0};
  null_request subset = plain;
  subset.group.units = rows - 12;
  subset.exclude_begin = 5;
  subset.exclude_end = 17;
  b_alignment alignment;
  alignment.b.type = dtype::f32;
  alignment.rows = rows;
  alignment.row_length = length;
  for (std::uint32_t q = 0; q < rows; ++q) alignment.row_order.push_back((q * 7 + 3) % rows | (q % 5 == 0 ? negated_entry : 0));
  for (std::uint32_t c = 0; c < length; ++c) alignment.column_order.push_back((c * 5 + 1) % length | (c % 3 == 0 ? negated_entry : 0));

  for (const null_request* request : {&plain, &subset}) {
    for (const b_alignment* aligned : {static_cast<const b_alignment*>(nullptr), static_cast<const b_alignment*>(&alignment)}) {
      byte_source memory_a{std::span<const std::byte>(a)}, memory_b{std::span<const std::byte>(b)};
      const null_samples reference = compute_permutation_null(*request, memory_a, memory_b, {.alignment_b = aligned});
      for (const read_method method : {read_method::map, read_method::read}) {
        for (const std::uint64_t limit : {std::uint64_t{1} << 28, std::uint64_t{64}}) {  // whole; row by row
          SCOPED_TRACE(testing::Message() << (method == read_method::map ? "map" : "read") << ", float limit " << limit
                                          << (aligned ? ", aligned" : "") << (request->tests_subset() ? ", subset" : ""));
          byte_source source_a(opened, 0, a.size(), {method, 512});
          byte_source source_b(opened, a.size(), b.size(), {method, 512});
          expect_same_bits(reference, compute_permutation_null(*request, source_a, source_b,
                                                               {.alignment_b = aligned, .float_limit = limit}));
        }
      }
    }
  }
  // A vector (elements permuted) read element by element.
  null_request vector = plain;
  vector.rows = 1;
  vector.row_length = rows * length;
  vector.axis = 1;
  vector.group.units = rows * length;
  byte_source memory_a{std::span<const std::byte>(a)}, memory_b{std::span<const std::byte>(b)};
  const null_samples reference = compute_permutation_null(vector, memory_a, memory_b, {});
  byte_source source_a(opened, 0, a.size(), {read_method::read, 0});
  byte_source source_b(opened, a.size(), b.size(), {read_method::read, 0});
  expect_same_bits(reference, compute_permutation_null(vector, source_a, source_b, {.float_limit = 64}));
}

}  // namespace
}  // namespace lineage
