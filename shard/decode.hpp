#pragma once
// Element decoding for the whole-tensor units (permutation nulls, cross-layer samples); the block
// kernel has its own fused loaders.
#include <cstddef>

#include "core/dtype.hpp"

namespace lineage {

// Decodes `count` elements to float (exact for every type but F64). Returns false if any value is
// NaN or ±Inf: a null or a layer sample with missing values has no clear meaning, so such units
// report the reason instead.
bool decode_to_float(const std::byte* src, dtype type, std::size_t count, float* out);

}  // namespace lineage
