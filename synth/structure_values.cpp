#include "synth/structure_values.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "synth/constant_buffers.hpp"

namespace lineage::synth {

namespace {

constexpr std::string_view purpose = "independent";  // the model's own seed, as independent_values.cpp
constexpr double initial_sigma = 0.02;               // the embedding's initialisation
constexpr double trained_growth = 4.0;               // trained rows vs rows left at initialisation
constexpr double profile_log_scale = 0.6;            // m_v = exp(0.6 (z_v - median z))
constexpr double frequency_weight = 10.0;            // alpha in element sds of the rows
constexpr double special_factor = 20.0;
constexpr double class_bias_sigma = 0.05;
constexpr std::string_view up_suffix = "up_proj.weight";

bool is_vocabulary(const tensor_spec& tensor) {
  return tensor.name == "model.embed_tokens.weight" || tensor.name == "lm_head.weight";
}

double squared_norm(std::span<const float> row) {
  double sum = 0;
  for (const float x : row) sum += static_cast<double>(x) * x;
  return sum;
}

// A unit vector of `length` normals from `stream`.
std::vector<double> unit_direction(random_stream& stream, std::size_t length) {
  std::vector<double> direction(length);
  double sum = 0;
  for (double& x : direction) {
    x = stream.normal();
    sum += x * x;
  }
  for (double& x : direction) x /= std::sqrt(sum);
  return direction;
}

}  // namespace

structured_draw::structured_draw(const model_shape& shape, const shared_structure& structure,
                                 const independent_draw& draw, nlohmann::json config)
    : structure_(structure), draw_(draw), config_(std::move(config)) {
  if (structure.any()) tokens_ = draw_token_structure(structure, shape.vocab);
}

void structured_draw::fill(const tensor_spec& tensor, std::span<float> out) const {
  if (tensor.role == tensor_role::constant) {
    fill_constant(tensor, config_, out);
    return;
  }
  if (structure_.classes > 0 && (tensor.name == "score.weight" || tensor.name == "score.bias")) {
    draw_classifier(tensor, out);
    return;
  }
  draw_independent_values(tensor, draw_, out);
  const bool shaped = structure_.token_profile || structure_.special_tokens > 0 || structure_.unused_tokens > 0;
  if (shaped && is_vocabulary(tensor)) shape_vocabulary(tensor, out);
  if (structure_.gate_up > 0 && tensor.name.ends_with(up_suffix)) mix_gate_into_up(tensor, out);
}

void structured_draw::shape_vocabulary(const tensor_spec& tensor, std::span<float> out) const {
  const std::size_t columns = tensor.shape.at(1);
  const double base_sigma =
      tensor.role == tensor_role::embedding ? initial_sigma : 1.0 / std::sqrt(static_cast<double>(columns));
  double sigma = base_sigma;
  if (!tokens_.unused.empty()) {
    sigma = trained_growth * initial_sigma;
    const double factor = sigma / base_sigma;
    for (float& x : out) x = static_cast<float>(x * factor);
  }
  if (!tokens_.profile.empty()) apply_profile(columns, sigma, out);
  if (!tokens_.unused.empty()) draw_unused_rows(tensor, out);
  if (!tokens_.special.empty()) draw_special_rows(tensor, out);
}

void structured_draw::apply_profile(std::size_t columns, double sigma, std::span<float> out) const {
  const auto& z = tokens_.profile;
  // m_v = 1 for the median token, so that a typical row keeps the scale `sigma` describes.
  std::vector<double> sorted = z;
  const auto middle = sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2);
  std::nth_element(sorted.begin(), middle, sorted.end());
  const double median = *middle;
  // One direction per model, shared by embed_tokens and lm_head: both live in its residual basis.
  random_stream stream(draw_.seed, purpose, "<frequency direction>");
  const std::vector<double> u = unit_direction(stream, columns);
  const double alpha = frequency_weight * sigma;
  for (std::size_t v = 0; v < z.size(); ++v) {
    const double scale = std::exp(profile_log_scale * (z[v] - median));
    float* row = out.data() + v * columns;
    for (std::size_t j = 0; j < columns; ++j) row[j] = static_cast<float>(row[j] * scale + alpha * z[v] * u[j]);
  }
}

void structured_draw::draw_unused_rows(const tensor_spec& tensor, std::span<float> out) const {
  const std::size_t columns = tensor.shape.at(1);
  random_stream stream(draw_.seed, purpose, "<unused rows> " + tensor.name);
  for (const std::uint64_t v : tokens_.unused)
    for (float& x : out.subspan(v * columns, columns)) x = static_cast<float>(initial_sigma * stream.normal());
}

void structured_draw::draw_special_rows(const tensor_spec& tensor, std::span<float> out) const {
  const std::size_t columns = tensor.shape.at(1);
  const std::size_t rows = out.size() / columns;
  std::vector<bool> ordinary(rows, true);
  for (const std::uint64_t v : tokens_.special) ordinary[v] = false;
  for (const std::uint64_t v : tokens_.unused) ordinary[v] = false;
  double sum = 0;
  std::size_t count = 0;
  for (std::size_t v = 0; v < rows; ++v)
    if (ordinary[v]) sum += squared_norm(out.subspan(v * columns, columns)), ++count;
  const double length = special_factor * std::sqrt(sum / static_cast<double>(std::max<std::size_t>(count, 1)));
  random_stream stream(draw_.seed, purpose, "<special rows> " + tensor.name);
  for (const std::uint64_t v : tokens_.special) {
    const auto direction = unit_direction(stream, columns);
    float* row = out.data() + v * columns;
    for (std::size_t j = 0; j < columns; ++j) row[j] = static_cast<float>(length * direction[j]);
  }
}

void structured_draw::draw_classifier(const tensor_spec& tensor, std::span<float> out) const {
  random_stream stream(draw_.seed, purpose, tensor.name);
  if (tensor.shape.size() == 1) {
    for (std::size_t c = 0; c < out.size(); ++c)
      out[c] = static_cast<float>(tokens_.class_prior.at(c) + class_bias_sigma * stream.normal());
    return;
  }
  const std::size_t columns = tensor.shape.at(1);
  const double base_sigma = 1.0 / std::sqrt(static_cast<double>(columns));
  for (std::size_t c = 0; c < tensor.shape.at(0); ++c)
    for (float& x : out.subspan(c * columns, columns))
      x = static_cast<float>(tokens_.class_scales.at(c) * base_sigma * stream.normal());
}

void structured_draw::mix_gate_into_up(const tensor_spec& up, std::span<float> out) const {
  tensor_spec gate = up;
  gate.name.replace(gate.name.size() - up_suffix.size(), up_suffix.size(), "gate_proj.weight");
  std::vector<float> gate_values(out.size());
  draw_independent_values(gate, draw_, gate_values);
  const double shared = structure_.gate_up;
  const double own = std::sqrt(1.0 - shared * shared);
  const std::size_t columns = up.shape.at(1);
  for (std::size_t start = 0; start < out.size(); start += columns) {
    const auto g = std::span<const float>(gate_values).subspan(start, columns);
    const auto u = out.subspan(start, columns);
    const double ratio = std::sqrt(squared_norm(u) / squared_norm(g));
    for (std::size_t j = 0; j < columns; ++j) u[j] = static_cast<float>(shared * g[j] * ratio + own * u[j]);
  }
}

}  // namespace lineage::synth
