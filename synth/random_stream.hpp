#pragma once
// Reproducible random numbers for the model generator. Every tensor draws from its own stream,
// seeded from (seed, purpose, tensor name), so a tensor's values do not depend on which tensors
// were written before it, on the shard layout, or on the standard library (std::normal_distribution
// is implementation-defined, so the normal sampler is our own Box-Muller).
#include <cstdint>
#include <string_view>

namespace lineage::synth {

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

 private:
  std::uint64_t state_[4];
  double cached_normal_ = 0.0;
  bool has_cached_normal_ = false;
};

}  // namespace lineage::synth
