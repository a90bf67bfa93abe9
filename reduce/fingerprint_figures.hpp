#pragma once
// What the shape-free fingerprints say (shard/fingerprint.hpp): for tensors that cannot be aligned,
// does B's fingerprint of layer L resemble A's of the same layer L more than A's of other layers?
//
// The features of a tensor are log sd, mean / sd and log σᵢ/‖W‖_F. Unrelated models of one
// recipe share what depth does to them (a trend) and what the width does (an offset), so each
// side's series of a feature over the layers is detrended first (least squares on 1, t, t²) and
// scaled to unit variance. What is left is layer-specific: a derivative inherits it from its parent
// (pruning keeps most of each tensor, and the sample fluctuations of its moments and top singular
// values with it); an unrelated model's residuals are independent of A's.
//
// The statistic T is the mean over roles and features of the correlation of A's and B's residual
// series at the same depth. Its null is cross-model and keeps each series whole: B's residuals
// rotated by s = 1 … n − 1 layers meet A's at another depth (a cyclic shift keeps the serial
// correlation a permutation of layers would destroy). With n layers the randomized p is never below
// 1/n: fingerprints corroborate, they carry a verdict only in deep models.
#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.hpp"

namespace lineage {

struct fingerprint_pair_figures {
  std::int32_t layer = 0;
  std::string role, name_a, name_b;
  std::vector<std::uint64_t> shape_a, shape_b;
  tensor_fingerprint a, b;
};

struct fingerprint_test {
  bool available = false;
  std::string reason;              // why not, when not available
  std::vector<std::string> roles;  // the roles in the test (one layer set)
  std::vector<std::int32_t> layers;
  std::size_t series = 0;          // (role, feature) series compared
  double statistic = 0;            // T at shift 0
  std::vector<double> null;        // T at shifts 1 … n − 1
  double z = 0;                    // (T − null mean) / null sd
  double p_value = 1;              // (#{null > T} + U·(1 + #{null = T})) / n
};

struct fingerprint_figures {
  std::vector<fingerprint_pair_figures> pairs;  // plan order
  fingerprint_test test;
};

// Layers needed for the test (the detrending spends three degrees of freedom).
inline constexpr std::size_t fingerprint_minimum_layers = 6;

fingerprint_figures derive_fingerprints(const work_plan& plan, const std::vector<fingerprint_result>& results,
                                        std::uint64_t seed);

// The features of one fingerprint (see above), in order; spectrum entries beyond `singular_values`
// are left out so that both sides have the same number.
std::vector<double> fingerprint_features(const tensor_fingerprint& f, std::size_t singular_values);

// The residuals of `series` (values at positions `t`) after least squares on 1, t, t², scaled to
// unit variance; empty when nothing varies beyond the fit.
std::vector<double> detrended(const std::vector<double>& series, const std::vector<double>& t);

}  // namespace lineage
