#include "synth/layer_edit.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>

#include "core/error.hpp"

namespace lineage::synth {

namespace {

constexpr std::string_view layer_prefix = "model.layers.";

// Where the layer digits of `name` are: [first, last) after the prefix, up to the next dot.
struct layer_digits {
  std::size_t first = 0, last = 0;
  std::uint64_t layer = 0;
};

std::optional<layer_digits> find_layer_digits(std::string_view name) {
  if (name.substr(0, layer_prefix.size()) != layer_prefix) return std::nullopt;
  const std::size_t first = layer_prefix.size();
  const std::size_t dot = name.find('.', first);
  if (dot == std::string_view::npos || dot == first) return std::nullopt;
  layer_digits digits{first, dot, 0};
  const auto [end, status] = std::from_chars(name.data() + first, name.data() + dot, digits.layer);
  if (status != std::errc() || end != name.data() + dot) return std::nullopt;
  return digits;
}

}  // namespace

bool edits_layers(derivation_kind kind) noexcept {
  return kind == derivation_kind::drop_layers || kind == derivation_kind::duplicate_layers;
}

std::optional<std::uint64_t> decoder_layer_of(std::string_view name) {
  const auto digits = find_layer_digits(name);
  if (!digits) return std::nullopt;
  return digits->layer;
}

std::string with_decoder_layer(std::string_view name, std::uint64_t layer) {
  const auto digits = find_layer_digits(name);
  if (!digits)
    throw internal_error(fmt::format("synth: {} is not a decoder-layer tensor", name));
  return fmt::format("{}{}{}", name.substr(0, digits->first), layer, name.substr(digits->last));
}

std::vector<std::uint64_t> child_layer_sources(derivation_kind kind, std::uint64_t parent_layers,
                                               std::span<const std::uint64_t> layers) {
  const auto option = fmt::format("--kind {} --layers", derivation_kind_name(kind));
  if (layers.empty()) throw usage_error(fmt::format("synth derive: {} names no layer", option));
  std::vector<std::uint64_t> listed(layers.begin(), layers.end());
  std::sort(listed.begin(), listed.end());
  if (const auto twice = std::adjacent_find(listed.begin(), listed.end()); twice != listed.end())
    throw usage_error(fmt::format("synth derive: {} names layer {} twice", option, *twice));
  if (parent_layers == 0)
    throw usage_error(fmt::format("synth derive: {}: the parent has no decoder layers", option));
  if (listed.back() >= parent_layers)
    throw usage_error(fmt::format("synth derive: {} {}: layer {} is past the parent's last layer {}",
                                  option, fmt::join(layers, ","), listed.back(),
                                  parent_layers - 1));
  if (kind == derivation_kind::drop_layers && listed.size() == parent_layers)
    throw usage_error(fmt::format(
        "synth derive: {} would drop all {} layers of the parent", option, parent_layers));

  std::vector<std::uint64_t> sources;
  for (std::uint64_t layer = 0; layer < parent_layers; ++layer) {
    const bool named = std::binary_search(listed.begin(), listed.end(), layer);
    if (kind == derivation_kind::drop_layers && named) continue;
    sources.push_back(layer);
    if (kind == derivation_kind::duplicate_layers && named) sources.push_back(layer);
  }
  return sources;
}

}  // namespace lineage::synth
