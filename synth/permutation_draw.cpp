#include "synth/permutation_draw.hpp"

#include "core/error.hpp"

namespace lineage::synth {

std::vector<std::uint64_t> non_identity_permutation(random_stream& stream, std::uint64_t count) {
  std::vector<std::uint32_t> drawn(count);
  auto is_identity = [&] {
    for (std::size_t i = 0; i < drawn.size(); ++i)
      if (drawn[i] != i) return false;
    return true;
  };
  do {
    random_permutation(stream, drawn);
  } while (count > 1 && is_identity());
  return {drawn.begin(), drawn.end()};
}

std::vector<std::uint64_t> expand_blocks(std::span<const std::uint64_t> order,
                                         std::uint64_t block) {
  std::vector<std::uint64_t> elements;
  elements.reserve(order.size() * block);
  for (const std::uint64_t source : order)
    for (std::uint64_t i = 0; i < block; ++i) elements.push_back(source * block + i);
  return elements;
}

std::vector<std::uint64_t> inverse_permutation(std::span<const std::uint64_t> order) {
  std::vector<std::uint64_t> inverse(order.size());
  for (std::size_t j = 0; j < order.size(); ++j) {
    if (order[j] >= order.size()) throw internal_error("synth: not a permutation");
    inverse[order[j]] = j;
  }
  return inverse;
}

}  // namespace lineage::synth
