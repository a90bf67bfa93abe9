#pragma once
// Reproducible random numbers, keyed by (seed, purpose, name): the model generator draws each
// tensor from its own stream, and the permutation nulls draw each tensor pair's permutations from
// theirs, so nothing depends on the order of work, on the rank that does it, or on the standard
// library (std::normal_distribution and std::uniform_int_distribution are implementation-defined,
// so the samplers here are our own).
#include <cstdint>
#include <span>
#include <string_view>

namespace lineage {

// FNV-1a, 64-bit: hashes a tensor name into the stream seed.
std::uint64_t fnv1a_64(std::string_view text) noexcept;

// One step of splitmix64: advances `state` and returns a well-mixed 64-bit value.
std::uint64_t splitmix64(std::uint64_t& state) noexcept;

class random_stream {
 public:
  // The stream for one tensor: `purpose` separates independent generation from each derivation, so
  // `derive --seed 1` of a model generated with seed 1 does not replay the parent's own draws.
  random_stream(std::uint64_t seed, std::string_view purpose,
                std::string_view tensor_name) noexcept;

  std::uint64_t next_u64() noexcept;  // xoshiro256++
  double uniform() noexcept;          // in [0, 1), 53 random bits
  double uniform(double low, double high) noexcept { return low + (high - low) * uniform(); }
  double normal() noexcept;  // N(0, 1) by Box-Muller, second value of each pair cached
  // Uniform in [0, bound) without modulo bias (Lemire's multiply-and-reject); bound > 0.
  std::uint64_t below(std::uint64_t bound) noexcept;

 private:
  std::uint64_t state_[4];
  double cached_normal_ = 0.0;
  bool has_cached_normal_ = false;
};

// A uniformly random permutation of 0..n−1 into `out` (Fisher–Yates, n = out.size()).
void random_permutation(random_stream& stream, std::span<std::uint32_t> out) noexcept;

}  // namespace lineage
