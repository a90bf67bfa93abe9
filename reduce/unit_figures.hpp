#pragma once
// The test of each unit (plan/plan_symmetry.cpp): the tensors one component of the architecture's
// symmetry group permutes, judged together.
//
// Every member's null used the same K draws of the unit's group, so the joint statistic
// S = Σ_m z_m — each member's statistic (slice directions for matrices, T for vectors) standardised
// by the mean and sd of its K + 1 values, the observed one included, which treats all K + 1 alike —
// has K draws of its own, and its randomization p is exact. Units are independent under the null
// by construction, so Fisher's method combines them exactly (reduce/evidence.cpp).
#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.hpp"
#include "shard/permutation_null.hpp"

namespace lineage {

struct tensor_result;

struct unit_figures {
  std::string kind;   // hidden, channels, latent, experts, heads, values, neurons, expert matching
  std::string label;  // e.g. "layer 3 mlp neurons"
  int layer = -1;
  std::string group;          // the group drawn from, in words
  symmetry_group spec;        // and exactly (form, units, KV heads, query heads per KV head, within)
  double log10_group_size = 0;
  std::uint32_t permutations = 0;  // K
  bool from_products = false;      // every member's null computed from cross products
  std::size_t members = 0;         // tensor pairs planned
  std::size_t used = 0;            // with a usable null, not bitwise identical
  bool available = false;
  std::string reason;              // why not available
  double statistic = 0;            // S observed
  double z = 0;                    // (S − mean of draws) / sd of draws: the effect size
  double p = 1;                    // max(randomized p, p_floor)
  double p_floor = 1;              // 1 / (1 + K)
  std::string strongest;           // the member with the largest z
  double strongest_z = 0;
  std::vector<std::string> left_out;  // members not in S, each "name: why"
};

// One entry per planned unit, in plan order. `tensors` are the report's tensor results (plan
// order); `nulls` one per pair. In units of inferred channels, bitwise-identical members are left
// out of S: the axis may be a fixed buffer's, which unrelated models share and no symmetry moves.
std::vector<unit_figures> derive_unit_figures(const work_plan& plan, const std::vector<null_samples>& nulls,
                                              const std::vector<tensor_result>& tensors);

// The group in words, e.g. "any permutation of 160 units", "8 heads in 2 KV groups".
std::string group_text(const symmetry_group& group);

}  // namespace lineage
