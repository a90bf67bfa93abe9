#pragma once
// A rotation of the residual stream recovered from the embeddings (issue 17, point 5).
//
// Folding the norm weights into the matrices that read them and then turning the residual stream
// by an orthogonal matrix Q (embedding rows e → Qe, readers W → WQᵀ, writers W → QW), as QuaRot and
// SpinQuant do, keeps the function and leaves no weight element-aligned with the parent's. The
// embedding rows of shared tokens see through it: E_B = E_A·Qᵀ, so the orthogonal Procrustes
// solution of min ‖E_B·R − E_A‖ over orthogonal R (R = UVᵀ from E_Bᵀ·E_A = U·S·Vᵀ) recovers
// R = Q. It is estimated on one half of the compared rows and judged on the other: held-out fits
// of the rotation, of the identity and of the recovered permutation say which reading of B is
// best. Any of them leaves the later units' tests exact, since it comes from the embedding alone.
#include <algorithm>
#include <cstdint>
#include <vector>

namespace lineage {

// A rotation is applied when its held-out fit is at least `rotation_least_fit` and beats both B as
// it is and the recovered permutation by `rotation_margin` (plan/plan_hidden.cpp). Fits are Pearson
// correlations, at most 1: when B as it is or the permutation already fits above 1 − margin, no
// rotation can be applied, and none is estimated.
inline constexpr double rotation_least_fit = 0.2, rotation_margin = 0.1;
[[nodiscard]] inline bool rotation_can_apply(double identity_fit, double permutation_fit) noexcept {
  return std::max(identity_fit, permutation_fit) + rotation_margin <= 1.0;
}
// The rule itself, for a rotation whose held-out fit is known.
[[nodiscard]] inline bool rotation_applies(double rotation_fit, double identity_fit, double permutation_fit) noexcept {
  return rotation_fit >= rotation_least_fit && rotation_fit >= std::max(identity_fit, permutation_fit) + rotation_margin;
}

struct hidden_rotation_estimate {
  // R, B's dimensions (rows) by A's (columns), row-major: B·R is B in A's frame. Empty when the
  // widths differ, too few rows were compared, or no rotation could be applied (rotation_fit 0) or
  // the held-out fit says it is not (rotation_fit known, the rotation on all rows not estimated).
  std::vector<float> rotation;
  // Pearson correlation of A's held-out rows with B's read three ways: through R (estimated on
  // the other half), as they are, and through the permutation the matching recovered.
  double rotation_fit = 0, identity_fit = 0, permutation_fit = 0;
};

// `a` and `b`: the compared rows (rows × width, row-major), first half then second half; `order`:
// the matched B dimension of each A dimension (with negation bits, shard/work_block.hpp), or empty.
hidden_rotation_estimate estimate_hidden_rotation(const std::vector<float>& a, const std::vector<float>& b,
                                                  std::uint64_t rows, std::uint64_t width,
                                                  const std::vector<std::uint32_t>& order);

class unit_team;
// The same, by every member of `team`: the members split the cross products by B's dimensions, and
// the member `lead` receives them and estimates the rotation (the others' estimates leave it out).
hidden_rotation_estimate estimate_hidden_rotation(const std::vector<float>& a, const std::vector<float>& b,
                                                  std::uint64_t rows, std::uint64_t width,
                                                  const std::vector<std::uint32_t>& order, const unit_team& team,
                                                  int lead);

}  // namespace lineage
