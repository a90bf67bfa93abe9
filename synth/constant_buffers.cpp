#include "synth/constant_buffers.hpp"

#include <fmt/format.h>

#include <cmath>
#include <numbers>

#include "core/error.hpp"

namespace lineage::synth {

namespace {

constexpr std::string_view inv_freq_suffix = "self_attn.rotary_emb.inv_freq";
constexpr std::string_view dct_name = "model.stft_basis";

std::uint64_t rotary_dimension(const nlohmann::json& config) {
  const auto head_dim = config.at("head_dim").get<std::uint64_t>();
  const double fraction = config.value("partial_rotary_factor", 1.0);
  return static_cast<std::uint64_t>(static_cast<double>(head_dim) * fraction);
}

// inv_freq[i] = 1 / theta^(2i / d), in double, rounded once to float.
void fill_inverse_frequencies(double theta, std::uint64_t dimension, std::span<float> out) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    const double exponent = static_cast<double>(2 * i) / static_cast<double>(dimension);
    out[i] = static_cast<float>(1.0 / std::pow(theta, exponent));
  }
}

// C[k][n] = sqrt(2 / N) c_k cos(pi (2n + 1) k / (2N)), c_0 = 1 / sqrt(2): rows orthonormal.
void fill_dct_basis(std::uint64_t size, std::span<float> out) {
  const double n_total = static_cast<double>(size);
  for (std::uint64_t k = 0; k < size; ++k)
    for (std::uint64_t n = 0; n < size; ++n) {
      const double scale = std::sqrt(2.0 / n_total) * (k == 0 ? 1.0 / std::numbers::sqrt2 : 1.0);
      const double angle = std::numbers::pi * static_cast<double>((2 * n + 1) * k) / (2.0 * n_total);
      out[k * size + n] = static_cast<float>(scale * std::cos(angle));
    }
}

}  // namespace

std::vector<tensor_spec> constant_buffer_tensors(std::uint64_t layer_count, const nlohmann::json& config) {
  const std::uint64_t dimension = rotary_dimension(config);
  if (dimension < 2)
    throw usage_error(fmt::format("synth: --constant-buffers needs a rotary dimension of at least 2 (head_dim {})",
                                  config.at("head_dim").dump()));
  std::vector<tensor_spec> tensors;
  for (std::uint64_t layer = 0; layer < layer_count; ++layer)
    tensors.push_back({fmt::format("model.layers.{}.{}", layer, inv_freq_suffix),
                       {dimension / 2},
                       tensor_role::constant,
                       dtype::f32});
  tensors.push_back({std::string(dct_name), {dct_size, dct_size}, tensor_role::constant, dtype::f32});
  return tensors;
}

void fill_constant(const tensor_spec& tensor, const nlohmann::json& config, std::span<float> out) {
  if (tensor.name == dct_name) {
    fill_dct_basis(dct_size, out);
    return;
  }
  if (!tensor.name.ends_with(inv_freq_suffix)) throw internal_error("synth: no constant named " + tensor.name);
  fill_inverse_frequencies(config.value("rope_theta", 10000.0), rotary_dimension(config), out);
}

}  // namespace lineage::synth
