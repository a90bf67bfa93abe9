#pragma once
// The manifest's hashes of both models, merged on rank 0 from every rank's range and file hashes
// (plan/content_plan.hpp says which ranges there are and who hashes them).
#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.hpp"

namespace lineage {

struct rank_results;

struct side_content {
  std::vector<manifest_tensor> tensors;
  std::vector<std::uint64_t> tensor_digests;  // per tensor: combine_hashes of its range hashes
  std::vector<hashed_range> ranges;
  std::vector<std::uint64_t> range_hashes;  // per range, XXH3-64
  std::vector<manifest_file> files;
  std::vector<std::uint32_t> weight_files;  // a tensor's file → index into `files`
  std::vector<std::string> sha256;          // per file; "" when not hashed
};

struct content_manifest {
  bool digests = false;  // whether the tensors and ranges carry hashes (false: no manifest tables)
  bool sha256 = false;   // whether `sha256` holds every file's
  side_content a, b;
};

// Every range hash and file hash of `per_rank` placed by index (each exactly once, else
// internal_error), and each tensor's digest combined from its ranges in offset order.
content_manifest content_in_plan_order(const work_plan& plan, const std::vector<rank_results>& per_rank);

// A tensor's digest from the hashes of `ranges` (its ranges, in order).
std::uint64_t tensor_digest(const manifest_tensor& tensor, const std::vector<std::uint64_t>& range_hashes);

}  // namespace lineage
