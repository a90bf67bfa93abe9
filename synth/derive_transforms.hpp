#pragma once
// The changes a derivation makes to one tensor's values (in float, before rounding to the output
// dtype). 1-D tensors are treated as norm vectors, tensors of rank >= 2 as matrices [rows, rest].
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/dtype.hpp"
#include "core/random_stream.hpp"

namespace lineage::synth {

// Root mean square of the values (0 for none), accumulated in double.
double root_mean_square(std::span<const float> values) noexcept;

// b = a + relative * rms(a) * z: the relative L2 change of every tensor is about `relative`.
void add_relative_noise(std::span<float> values, double relative, random_stream& stream);

// Fine-tune-like change of strength `scale`: a matrix gets a rank-4 update U V^T with Frobenius
// norm scale * |a|_F plus dense noise of relative size scale / 4; a vector v gets v + scale sd(v)
// z, a step relative to its spread around the mean (see drift_vector).
void apply_drift(std::span<float> values, std::span<const std::uint64_t> shape, double scale,
                 random_stream& stream);

// Overwrites `count` evenly spaced elements (index floor((i + 1/2) n / count)) with NaN, +Inf,
// NaN, ... encoded in `type`. Requires 1 <= count <= n.
void inject_nonfinite(std::span<std::byte> bytes, dtype type, std::uint64_t count);

}  // namespace lineage::synth
