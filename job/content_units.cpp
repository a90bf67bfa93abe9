#include "job/content_units.hpp"

#include "core/content_hash.hpp"
#include "core/error.hpp"

namespace lineage {

void record_block_hashes(const work_plan& plan, std::size_t block, const block_reader::range_hashes& hashes,
                         rank_results& results) {
  const content_plan& content = plan.content;
  if (const std::int64_t range = content.block_range_a.at(block); range != no_range)
    results.range_hashes.push_back({0, static_cast<std::uint64_t>(range), hashes.a});
  if (const std::int64_t range = content.block_range_b.at(block); range != no_range) {
    if (!hashes.b_hashed) throw internal_error("manifest: a block read B through an alignment but owns B's range");
    results.range_hashes.push_back({1, static_cast<std::uint64_t>(range), hashes.b});
  }
}

std::uint64_t hash_content_range(const work_plan& plan, int side, std::uint64_t index, block_reader& reader) {
  const model_content& model = plan.content.side(side);
  const hashed_range& range = model.ranges.at(index);
  const manifest_tensor& tensor = model.tensors.at(range.tensor);
  const std::size_t size = dtype_size(tensor.type);
  if (range.offset % size != 0 || range.length % size != 0)
    throw internal_error("manifest: a digest range does not hold whole elements");
  // Read as the plan's reading says (mapped or pread), like the blocks.
  byte_source bytes = reader.source(side, {tensor.file, tensor.byte_offset + range.offset, tensor.type}, range.length / size);
  return fast_hash(bytes.piece(0, bytes.size()));
}

void compute_content_unit(const work_plan& plan, std::size_t index, block_reader& reader, rank_results& results) {
  const content_unit& unit = plan.content.units.at(index);
  const model_content& model = plan.content.side(unit.side);
  if (unit.whole_file) {
    results.file_hashes.push_back({unit.side, unit.index, sha256_file(model.files.at(unit.index).path)});
    return;
  }
  results.range_hashes.push_back({unit.side, unit.index, hash_content_range(plan, unit.side, unit.index, reader)});
}

}  // namespace lineage
