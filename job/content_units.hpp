#pragma once
// The manifest's hashes as the statistics phase computes them: a block's hashes recorded against
// the ranges the plan gave it, and the content units that hash what no block reads.
#include "plan/plan.hpp"
#include "reduce/block_results.hpp"
#include "shard/block_compute.hpp"

namespace lineage {

// Records the hashes block `block` computed while reading (block_reader::compute) as the ranges
// plan.content gives that block. Throws internal_error when B's range should be hashed but was not.
void record_block_hashes(const work_plan& plan, std::size_t block, const block_reader::range_hashes& hashes,
                         rank_results& results);

// XXH3-64 of range `range` of side `side` (0 = A) of plan.content, read through `reader` as the
// blocks read it.
[[nodiscard]] std::uint64_t hash_content_range(const work_plan& plan, int side, std::uint64_t range,
                                               block_reader& reader);

// Content unit `index` of the plan: XXH3-64 of its range (mapped through `reader`, which checks
// the file is still long enough), or the SHA-256 of its whole file.
void compute_content_unit(const work_plan& plan, std::size_t index, block_reader& reader, rank_results& results);

}  // namespace lineage
