#include "core/random_stream.hpp"

#include <bit>
#include <cmath>
#include <numbers>
#include <utility>

namespace lineage {

std::uint64_t fnv1a_64(std::string_view text) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

random_stream::random_stream(std::uint64_t seed, std::string_view purpose,
                             std::string_view tensor_name) noexcept {
  // Mix the seed first so that nearby seeds (1, 2, 3) give unrelated streams, then fold in the
  // hashes; splitmix64 fills the four state words (never all zero in practice).
  std::uint64_t mixer = seed;
  std::uint64_t state = splitmix64(mixer) ^ fnv1a_64(purpose);
  state = splitmix64(state) ^ fnv1a_64(tensor_name);
  for (auto& word : state_) word = splitmix64(state);
}

std::uint64_t random_stream::next_u64() noexcept {
  const std::uint64_t result = std::rotl(state_[0] + state_[3], 23) + state_[0];
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = std::rotl(state_[3], 45);
  return result;
}

double random_stream::uniform() noexcept {
  return static_cast<double>(next_u64() >> 11) * 0x1.0p-53;
}

double random_stream::normal() noexcept {
  if (has_cached_normal_) {
    has_cached_normal_ = false;
    return cached_normal_;
  }
  // u1 in (0, 1] so the logarithm is finite; 53 bits keep the tail out to 8.6 sigma. The angle
  // needs no such resolution, and float sine and cosine halve the cost of a draw.
  const double u1 = static_cast<double>((next_u64() >> 11) + 1) * 0x1.0p-53;
  const float angle =
      2.0f * std::numbers::pi_v<float> * static_cast<float>(next_u64() >> 40) * 0x1.0p-24f;
  const double radius = std::sqrt(-2.0 * std::log(u1));
  cached_normal_ = radius * static_cast<double>(std::sin(angle));
  has_cached_normal_ = true;
  return radius * static_cast<double>(std::cos(angle));
}

std::uint64_t random_stream::below(std::uint64_t bound) noexcept {
  __extension__ using wide = unsigned __int128;
  std::uint64_t x = next_u64();
  wide product = static_cast<wide>(x) * bound;
  auto low = static_cast<std::uint64_t>(product);
  if (low < bound) {
    const std::uint64_t threshold = -bound % bound;
    while (low < threshold) {
      x = next_u64();
      product = static_cast<wide>(x) * bound;
      low = static_cast<std::uint64_t>(product);
    }
  }
  return static_cast<std::uint64_t>(product >> 64);
}

void random_permutation(random_stream& stream, std::span<std::uint32_t> out) noexcept {
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::uint32_t>(i);
  for (std::size_t i = out.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(stream.below(i));
    std::swap(out[i - 1], out[j]);
  }
}

}  // namespace lineage
