#include "shard/block_compute.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "shard/kernel.hpp"

namespace lineage {

block_reader::block_reader(std::vector<std::filesystem::path> files_a,
                           std::vector<std::filesystem::path> files_b) {
  paths_[0] = std::move(files_a);
  paths_[1] = std::move(files_b);
  open_[0].resize(paths_[0].size());
  open_[1].resize(paths_[1].size());
}

const read_only_file& block_reader::open(int side, std::uint32_t index) {
  auto& slot = open_[side].at(index);
  if (!slot) slot = std::make_unique<read_only_file>(paths_[side].at(index));
  return *slot;
}

mapped_range block_reader::map(int side, const element_location& location, std::uint64_t elements) {
  const read_only_file& file = open(side, location.file);
  const std::uint64_t bytes = elements * dtype_size(location.type);
  if (location.byte_offset + bytes > file.size())
    throw input_error(fmt::format(
        "{}: file is {} bytes but the plan needs bytes up to {}; was it truncated after the job "
        "started?",
        file.path().string(), file.size(), location.byte_offset + bytes));
  return mapped_range(file, location.byte_offset, bytes);
}

kernel_sums block_reader::compute(const work_block& block) {
  const mapped_range range_a = map(0, block.a, block.elements);
  const mapped_range range_b = map(1, block.b, block.elements);
  return compute_block_sums({range_a.bytes().data(), block.a.type},
                            {range_b.bytes().data(), block.b.type}, block.elements);
}

null_samples block_reader::compute(const null_request& request) {
  const mapped_range range_a = map(0, request.a, request.elements_a());
  const mapped_range range_b = map(1, request.b, request.elements_b());
  return compute_permutation_null(request, range_a.bytes(), range_b.bytes());
}

}  // namespace lineage
