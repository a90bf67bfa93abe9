#pragma once
// Random permutations for the permuting derivations (experts, neurons, heads, the hidden
// dimension), and how a permutation of blocks becomes one of rows.
#include <cstdint>
#include <span>
#include <vector>

#include "core/random_stream.hpp"

namespace lineage::synth {

// A uniformly random permutation of 0..count-1, redrawn while it is the identity (for count > 1):
// a "permuted" child equal to its parent would test nothing.
[[nodiscard]] std::vector<std::uint64_t> non_identity_permutation(random_stream& stream,
                                                                  std::uint64_t count);

// The element order that moves whole blocks of `block` elements: element b * block + i of the
// result is element order[b] * block + i of the source.
[[nodiscard]] std::vector<std::uint64_t> expand_blocks(std::span<const std::uint64_t> order,
                                                       std::uint64_t block);

// The inverse permutation: inverse[order[j]] = j.
[[nodiscard]] std::vector<std::uint64_t> inverse_permutation(std::span<const std::uint64_t> order);

}  // namespace lineage::synth
