#pragma once
// rescale-norms: RMSNorm computes w * x / rms(x), and the linear layers after it read that
// elementwise; so w' = w * s with the readers' input columns divided by s computes the same
// function for any positive s, while the norm weights (and the readers' columns) no longer match
// the parent's element for element.
#include <cstdint>
#include <string_view>
#include <vector>

namespace lineage::synth {

// The factors s_i = exp(scale * z_i) of one norm, z_i ~ N(0, 1) from the stream of (seed, norm):
// the norm and every tensor that reads it draw the same factors.
[[nodiscard]] std::vector<double> norm_factors(std::uint64_t seed, double scale,
                                               std::string_view norm, std::uint64_t length);

}  // namespace lineage::synth
