#pragma once
// Hashes of checkpoint bytes and of files lineage writes itself: a fast non-cryptographic 64-bit
// hash (XXH3, from libxxhash) that a reader can fuse into a pass over bytes it reads anyway, and
// SHA-256 (OpenSSL) of whole files for manifests that must stand against tampering.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

namespace lineage {

// XXH3-64 of a byte range, seed 0.
std::uint64_t fast_hash(std::span<const std::byte> bytes) noexcept;

// XXH3-64 fed in pieces: the result equals fast_hash() of the concatenation.
class fast_hasher {
 public:
  fast_hasher();
  fast_hasher(fast_hasher&&) noexcept;
  fast_hasher& operator=(fast_hasher&&) noexcept;
  ~fast_hasher();
  void update(std::span<const std::byte> bytes) noexcept;
  [[nodiscard]] std::uint64_t digest() const noexcept;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

// "0123456789abcdef": 16 lower-case hex digits.
std::string hash_hex(std::uint64_t hash);

// SHA-256 of a file's bytes as 64 lower-case hex digits. Throws input_error naming the file when
// it cannot be read to its end.
std::string sha256_file(const std::filesystem::path& path);

// SHA-256 of bytes in memory, as 64 lower-case hex digits.
std::string sha256_hex(std::span<const std::byte> bytes);

}  // namespace lineage
