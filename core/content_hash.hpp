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

// A digest of digests: XXH3-64 (seed 0) of `hashes` written as 8-byte little-endian words, one after
// another in the given order. A tensor's digest in the manifest is this of its range hashes in
// offset order (docs/HDF5_SCHEMA.md); with no hashes it is fast_hash of no bytes.
std::uint64_t combine_hashes(std::span<const std::uint64_t> hashes);

// "0123456789abcdef": 16 lower-case hex digits.
std::string hash_hex(std::uint64_t hash);

// SHA-256 of a file's bytes as 64 lower-case hex digits. Throws input_error naming the file when
// it cannot be read to its end.
std::string sha256_file(const std::filesystem::path& path);

// SHA-256 of bytes in memory, as 64 lower-case hex digits.
std::string sha256_hex(std::span<const std::byte> bytes);

}  // namespace lineage
