#pragma once
// A rank's reader of work: opens each model file once, maps the byte range of A and of B a unit of
// work needs (a block, or a whole tensor pair for its null), computes, and unmaps, so resident
// memory follows the unit being computed, not the model size.
#include <filesystem>
#include <memory>
#include <vector>

#include "shard/block_stats.hpp"
#include "shard/mapped_file.hpp"
#include "shard/permutation_null.hpp"
#include "shard/work_block.hpp"

namespace lineage {

class block_reader {
 public:
  block_reader(std::vector<std::filesystem::path> files_a, std::vector<std::filesystem::path> files_b);

  // Throws input_error naming the file when it cannot be opened or has become shorter than the
  // block needs (a file changed since the plan was made).
  [[nodiscard]] kernel_sums compute(const work_block& block);

  // The permutation null of a whole tensor pair (same errors as compute()).
  [[nodiscard]] null_samples compute(const null_request& request);

  // Maps `elements` elements of side 0 (A) or 1 (B) starting at `location`, after checking the
  // file size.
  [[nodiscard]] mapped_range map(int side, const element_location& location, std::uint64_t elements);

 private:
  const read_only_file& open(int side, std::uint32_t index);

  std::vector<std::filesystem::path> paths_[2];
  std::vector<std::unique_ptr<read_only_file>> open_[2];
};

}  // namespace lineage
