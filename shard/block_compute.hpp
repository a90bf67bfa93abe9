#pragma once
// A rank's reader of blocks: opens each model file once, maps each block's byte range of A and of
// B, runs the kernel, and unmaps, so resident memory stays near two blocks whatever the model size.
#include <filesystem>
#include <memory>
#include <vector>

#include "shard/block_stats.hpp"
#include "shard/mapped_file.hpp"
#include "shard/work_block.hpp"

namespace lineage {

class block_reader {
 public:
  block_reader(std::vector<std::filesystem::path> files_a, std::vector<std::filesystem::path> files_b);

  // Throws input_error naming the file when it cannot be opened or has become shorter than the
  // block needs (a file changed since the plan was made).
  [[nodiscard]] kernel_sums compute(const work_block& block);

 private:
  const read_only_file& open(int side, std::uint32_t index);

  std::vector<std::filesystem::path> paths_[2];
  std::vector<std::unique_ptr<read_only_file>> open_[2];
};

}  // namespace lineage
