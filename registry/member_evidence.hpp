#pragma once
// The evidence one registered model gives about a query, from the two fingerprints alone, under the
// null principle of `lineage compare` (docs/ARCHITECTURE.md, "Symmetry nulls"): each test unit's
// statistic is compared with its values under random elements of one symmetry of the member's
// architecture, so its p is exact whatever the weights share along tokens.
//
// Units (each a permutation test of its statistic against draws from its symmetry; the p is
// (1 + #{draws ≥ observed}) / (1 + K), never below 1/(1 + K)):
//  - "token rows": D = Σ_i cos(A[:, i], B[:, i]) over hidden dimensions i (a seeded subset of at most
//    256 of A's) on the tokens both samples hold; null: B's hidden dimensions permuted. Tests
//    element-aligned derivatives; a residual stream permuted or turned scores nothing here;
//  - "heads" of each attention layer both have with one layout: Σ_r cos(A_r, B_r) over q's and k's
//    rows in the token frame (the frame tokens both hold); null: B's heads permuted (KV heads with
//    their query groups, query heads within a group). Invariant under any map of the residual
//    stream, norms rescaled or folded;
//  - "values" of each such layer: the same over v's rows; null: the dimensions inside each KV head
//    permuted.
// K in two stages: `draws` for every member; a unit with fewer than 10 draws at or above its
// statistic (p ≤ 10 / (1 + draws)) goes on to `deep_draws`, whose p it then reports. Either stage's
// p is a valid Monte-Carlo p, and the stop condition only ever hands a small p on to the deeper
// stage, so P(p ≤ t) ≤ t holds for the procedure as a whole (the sequential idea of Besag and
// Clifford, 1991): unrelated members cost `draws`, only real signal reaches floors near 1e-5.
// The first stage's draws depend only on the seed, the unit's label and its group, never on the
// member: a search draws them once (search_draws) and every member reuses them.
// No unit's statistic moves under another unit's symmetry, and each unit draws its own, so the
// units' p-values are independent under the null and Fisher's combination of them is exact.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "registry/fingerprint.hpp"
#include "shard/symmetry_draw.hpp"

namespace lineage {

struct search_options {
  std::uint64_t seed = 0;
  std::uint32_t draws = 999;         // first stage, every unit of every member
  std::uint32_t deep_draws = 99999;  // second stage, units whose first p is at most 10 / (1 + draws)
  double alpha = 0.01;
};

// The first stage's draws of every unit seen so far, kept for the next member.
class search_draws {
 public:
  explicit search_draws(const search_options& options) : options_(options) {}
  // draws × units entries: [k · units + i] is the unit of B that meets A's unit i in draw k.
  [[nodiscard]] std::span<const std::uint32_t> first(const std::string& seed_key, const symmetry_group& group,
                                                     const axis_layout& layout, std::size_t units);
  [[nodiscard]] const search_options& options() const noexcept { return options_; }

 private:
  search_options options_;
  std::map<std::string, std::vector<std::uint32_t>> drawn_;
};

struct unit_evidence {
  std::string family;  // "token rows", "heads", "values"
  std::string label;   // "layer 3", "embedding"
  double observed = 0;  // the unit's statistic
  double z = 0;         // (observed − mean) / sd of the first stage's draws: the effect size
  double p = 1;         // the permutation p of the stage it stopped at
  std::uint32_t draws = 0;
};

struct member_evidence {
  std::uint64_t shared_rows = 0, shared_frame = 0;  // tokens both samples hold; of those in both frames
  std::vector<unit_evidence> units;
  double p = 1;      // Fisher over the units (1 when there are none)
  double score = 0;  // Σ z / √units: the effect the registry's own null is read against
  bool same_bytes = false;  // every checkpoint file has the same SHA-256 in both
  std::string note;  // why a family was not computed
};

[[nodiscard]] member_evidence test_member(const model_fingerprint& query, const model_fingerprint& member,
                                          search_draws& draws);

}  // namespace lineage
