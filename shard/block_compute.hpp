#pragma once
// A rank's reader of work: opens each model file once and reads the byte ranges of A and of B a
// unit of work needs (a block; a whole tensor pair for its null; rows for the matching units)
// through byte sources (mapped windows released as the unit goes, or pread), so resident memory
// follows the unit being computed and the configured window, not the model size.
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "checkpoint/mapped_file.hpp"
#include "shard/block_stats.hpp"
#include "shard/byte_source.hpp"
#include "shard/permutation_null.hpp"
#include "shard/work_block.hpp"

namespace lineage {

class block_reader {
 public:
  // `settings` say how units read their bytes (mapped or pread, and the window each side of a
  // unit may keep resident).
  block_reader(std::vector<std::filesystem::path> files_a, std::vector<std::filesystem::path> files_b,
               const read_settings& settings = {});

  // Throws input_error naming the file when it cannot be opened or has become shorter than the
  // block needs (a file changed since the plan was made).
  // `alignment` (the plan's entry for block.alignment, null for −1) says where B's elements are.
  // `hashes`, when given, receives XXH3-64 (core/content_hash.hpp) of the bytes the block read:
  // A's range, and B's range when B is read in place (no alignment), fused into the read.
  struct range_hashes {
    std::uint64_t a = 0, b = 0;
    bool b_hashed = false;
  };
  [[nodiscard]] kernel_sums compute(const work_block& block, const b_alignment* alignment = nullptr,
                                    range_hashes* hashes = nullptr);

  // The permutation null of a whole tensor pair (same errors as compute()). With an alignment, B
  // is read in A's order first (its columns; its rows too unless the request pairs rows
  // explicitly, as a matched router does).
  // `norm` (the pair named by request.norm_pair) supplies the norm weights the direction statistic
  // folds the rows with: B's read in the order of `columns_b` (the reader's hidden order without
  // signs, which RMSNorm does not see; empty: as stored). `rotation` (request.rotate) is the plan's
  // hidden rotation; B's norm then folds in B's own order before B is turned.
  struct norm_source {
    element_location a, b;
    std::uint64_t elements = 0;
    std::vector<std::uint32_t> columns_b;
  };
  [[nodiscard]] null_samples compute(const null_request& request, const b_alignment* alignment = nullptr,
                                     const norm_source* norm = nullptr, std::span<const float> rotation = {});

  // Decodes rows `rows` of the [*, row_length] tensor of side 0 (A) or 1 (B) at `first` to float,
  // each row's columns picked by `columns` (all, in order, when empty), into `out`:
  // rows.size() × (columns.empty() ? row_length : columns.size()) floats. One mapping spans the
  // rows. Returns false when a decoded value is not finite.
  bool read_rows(int side, const element_location& first, std::uint64_t row_length,
                 std::span<const std::uint32_t> rows, std::span<const std::uint32_t> columns, float* out);

  // A source of `elements` elements of side 0 (A) or 1 (B) starting at `location`, read as the
  // settings say. Throws input_error naming the file when it is shorter than that (a file changed
  // since the plan was made).
  [[nodiscard]] byte_source source(int side, const element_location& location, std::uint64_t elements);

 private:
  const read_only_file& open(int side, std::uint32_t index);

  std::vector<std::filesystem::path> paths_[2];
  std::vector<std::unique_ptr<read_only_file>> open_[2];
  read_settings settings_;
  // Where each side's pieces read with pread land: a reader computes one unit at a time and reads
  // at most one range of each side at once.
  std::vector<std::byte> buffers_[2];
};

}  // namespace lineage
