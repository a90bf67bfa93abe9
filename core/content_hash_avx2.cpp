// XXH3-64 compiled for AVX2 (this file alone is built with -mavx2), chosen at run time by
// fast_hash() when the CPU has AVX2. xxHash guarantees the same result for every vector width.
// Only xxhash.h is included, with every function static (XXH_INLINE_ALL), so no AVX2 code can be
// merged into an inline function other files share.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/content_hash_variants.hpp"

namespace lineage::detail {

std::uint64_t xxh3_avx2(const void* data, std::size_t length) noexcept { return XXH3_64bits(data, length); }

}  // namespace lineage::detail
