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

kernel_sums block_reader::compute(const work_block& block) {
  const std::uint64_t bytes_a = block.elements * dtype_size(block.a.type);
  const std::uint64_t bytes_b = block.elements * dtype_size(block.b.type);
  const read_only_file& file_a = open(0, block.a.file);
  const read_only_file& file_b = open(1, block.b.file);
  for (const auto* file : {&file_a, &file_b}) {
    const auto& location = file == &file_a ? block.a : block.b;
    const auto bytes = file == &file_a ? bytes_a : bytes_b;
    if (location.byte_offset + bytes > file->size())
      throw input_error(fmt::format(
          "{}: file is {} bytes but the plan needs bytes up to {}; was it truncated after the job "
          "started?",
          file->path().string(), file->size(), location.byte_offset + bytes));
  }
  const mapped_range range_a(file_a, block.a.byte_offset, bytes_a);
  const mapped_range range_b(file_b, block.b.byte_offset, bytes_b);
  return compute_block_sums({range_a.bytes().data(), block.a.type},
                            {range_b.bytes().data(), block.b.type}, block.elements);
}

}  // namespace lineage
