#pragma once
// What the attention-head matching of each layer found (shard/head_match.hpp), as the report
// shows it.
#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.hpp"

namespace lineage {

struct head_matching_figures {
  std::int32_t layer = 0;
  bool mtp = false;  // an MTP block's attention (numbered from 0 after the main stack)
  bool available = false;
  std::string reason;
  std::uint64_t heads = 0, kv_heads = 0, head_dim = 0, columns = 0;
  std::uint64_t ranked = 0;  // query heads in the Spearman sample
  double spearman = 0;       // of the matchings by q_proj rows and by o_proj columns
  double z = 0;              // ρ·√(n − 1), for scale only: heads are few
  double p_closed = 1;
  std::uint32_t permutations = 0;
  double p_permutation = NAN;  // randomized exact permutation p: the one the evidence combines
  double p_value = 1;
  double agreement = 0;        // share of query heads both matchings send to the same B head
  double combined_similarity = 0;
  std::size_t moved = 0;       // query heads the combined matching sends to a B head of another index
  bool applied = false;        // B's v/o read in the head order recovered from q and k (by_q, by_k)
  std::vector<std::int32_t> by_q;  // per A query head, its B head by q_proj alone (the order applied)
  std::vector<std::int32_t> by_k;  // per A KV head, its B KV head by k_proj alone
  std::vector<std::int32_t> combined;     // per A query head, its B head (q and o together)
  std::vector<std::int32_t> combined_kv;  // per A KV head, its B KV head (k and v together)
  [[nodiscard]] std::string where() const;  // "layer 3", "MTP block 0"
};

// One entry per head-matching unit of the plan, from the results it keeps; none when the plan
// holds no results (the second matching phase was not run).
std::vector<head_matching_figures> derive_head_matching(const work_plan& plan);

}  // namespace lineage
