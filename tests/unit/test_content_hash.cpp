// core/content_hash: XXH3-64 and SHA-256 against their published test vectors, and the streaming
// hasher equal to the one-shot hash of the concatenation.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <xxhash.h>

#include "core/content_hash.hpp"
#include "core/content_hash_variants.hpp"
#include "core/error.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

std::span<const std::byte> bytes_of(const std::string& text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

TEST(ContentHash, Xxh3OfTheEmptyInputIsItsPublishedValue) {
  EXPECT_EQ(fast_hash({}), 0x2D06800538D394C2ull);
  EXPECT_EQ(hash_hex(fast_hash({})), "2d06800538d394c2");
}

TEST(ContentHash, StreamingEqualsOneShotWhateverThePieces) {
  std::vector<std::byte> data(100000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>((i * 2654435761u) >> 13);
  const std::uint64_t whole = fast_hash(data);
  for (std::size_t piece : {1u, 7u, 64u, 240u, 4096u, 99999u}) {
    fast_hasher hasher;
    for (std::size_t at = 0; at < data.size(); at += piece)
      hasher.update(std::span(data).subspan(at, std::min(piece, data.size() - at)));
    EXPECT_EQ(hasher.digest(), whole) << "pieces of " << piece;
  }
  data[50000] ^= std::byte{1};
  EXPECT_NE(fast_hash(data), whole);
}

TEST(ContentHash, TheAvx2BuildOfXxh3GivesLibxxhashsValues) {
  if (__builtin_cpu_supports("avx2") == 0) GTEST_SKIP() << "this CPU has no AVX2";
  std::vector<std::byte> data(1 << 20);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>((i * 2654435761u) >> 11);
  // Every length class of XXH3 (0–16, 17–128, 129–240, long inputs with a partial stripe and block).
  for (std::size_t length : {0u, 1u, 3u, 8u, 16u, 17u, 100u, 128u, 129u, 240u, 241u, 1000u, 1024u, 4097u, 1000003u}) {
    const std::uint64_t library = XXH3_64bits(data.data(), length);
    EXPECT_EQ(detail::xxh3_avx2(data.data(), length), library) << length << " bytes";
    EXPECT_EQ(fast_hash(std::span(data).first(length)), library) << length << " bytes";
  }
}

TEST(ContentHash, Sha256OfKnownMessages) {
  EXPECT_EQ(sha256_hex(bytes_of("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex({}), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ContentHash, Sha256OfAFileLargerThanItsBuffer) {
  test::scratch_directory dir{"content_hash"};
  // A million 'a's, the FIPS 180-2 long-message vector, spans the 1 MiB read buffer's boundary.
  const std::string million(1000000, 'a');
  const auto path = test::write_text(dir.path() / "a.bin", million + million.substr(0, 48576 + 1000));
  const auto exact = test::write_text(dir.path() / "m.bin", million);
  EXPECT_EQ(sha256_file(exact), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(sha256_file(path), sha256_hex(bytes_of(million + million.substr(0, 48576 + 1000))));
}

TEST(ContentHash, MissingFileIsAnInputErrorNamingIt) {
  try {
    (void)sha256_file("/nonexistent/lineage/model.safetensors");
    FAIL() << "did not throw";
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/lineage/model.safetensors"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lineage
