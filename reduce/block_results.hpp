#pragma once
// Partial results of one rank, their wire form, and their merge on rank 0 in plan order.
#include <cstdint>
#include <vector>

#include "mpi/plan.hpp"
#include "shard/block_stats.hpp"

namespace lineage {

struct block_result {
  std::uint64_t block = 0;  // index into work_plan::blocks
  pair_moments moments;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & block & moments;
  }
};

// Boost.Serialization binary archive; only exchanged between ranks of one job.
std::vector<char> serialize_results(const std::vector<block_result>& results);
std::vector<block_result> deserialize_results(const std::vector<char>& bytes);

// One pair_moments per tensor pair, each the merge of its blocks in block order. Throws
// internal_error unless every block of the plan is present exactly once.
std::vector<pair_moments> merge_in_plan_order(const work_plan& plan,
                                              const std::vector<std::vector<block_result>>& per_rank);

}  // namespace lineage
