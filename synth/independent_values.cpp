#include "synth/independent_values.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "core/random_stream.hpp"

namespace lineage::synth {

namespace {

constexpr std::string_view purpose = "independent";
constexpr double row_scale_log_sigma = 0.2;
constexpr double embedding_sigma = 0.02;
constexpr double bias_sigma = 0.02;
constexpr float norm_floor = 0.01f;  // norm weights stay positive, as trained ones do

void draw_norm(const tensor_spec& tensor, const independent_draw& draw, std::span<float> out) {
  random_stream stream(draw.seed, purpose, tensor.name);
  const double mean = stream.uniform(0.6, 1.4);
  const double cv = stream.uniform(0.05, 0.2);
  const double shared_weight = std::sqrt(draw.layer_correlation);
  const double own_weight = std::sqrt(1.0 - draw.layer_correlation);
  // The profile depends only on the seed and the length, so every norm tensor of one width in one
  // model sees the same profile.
  random_stream profile(draw.seed, purpose, "<norm profile>");
  for (auto& value : out) {
    const double shared = shared_weight > 0 ? shared_weight * profile.normal() : 0.0;
    const double z = shared + own_weight * stream.normal();
    value = std::max(static_cast<float>(mean * (1.0 + cv * z)), norm_floor);
  }
}

void draw_rows(const tensor_spec& tensor, double base_sigma, const independent_draw& draw,
               std::span<float> out) {
  random_stream stream(draw.seed, purpose, tensor.name);
  const std::size_t columns = tensor.shape.size() > 1 ? tensor.shape.back() : out.size();
  for (std::size_t row_start = 0; row_start < out.size(); row_start += columns) {
    const double sigma = base_sigma * std::exp(row_scale_log_sigma * stream.normal());
    for (std::size_t i = row_start; i < row_start + columns; ++i)
      out[i] = static_cast<float>(sigma * stream.normal());
  }
}

void draw_bias(const tensor_spec& tensor, const independent_draw& draw, std::span<float> out) {
  random_stream stream(draw.seed, purpose, tensor.name);
  for (auto& value : out) value = static_cast<float>(bias_sigma * stream.normal());
}

}  // namespace

void draw_independent_values(const tensor_spec& tensor, const independent_draw& draw,
                             std::span<float> out) {
  switch (tensor.role) {
    case tensor_role::norm: draw_norm(tensor, draw, out); return;
    case tensor_role::embedding: draw_rows(tensor, embedding_sigma, draw, out); return;
    case tensor_role::bias: draw_bias(tensor, draw, out); return;
    case tensor_role::constant:
      throw internal_error("synth: constant " + tensor.name + " is computed, not drawn (constant_buffers.hpp)");
    case tensor_role::matrix: {
      const double fan_in = static_cast<double>(tensor.shape.back());
      draw_rows(tensor, 1.0 / std::sqrt(fan_in), draw, out);
      return;
    }
  }
}

}  // namespace lineage::synth
