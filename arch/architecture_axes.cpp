#include "arch/architecture_axes.hpp"

#include <array>
#include <string>
#include <utility>

namespace lineage {
namespace {

constexpr std::array<std::pair<axis_kind, std::string_view>, 15> names = {{
    {axis_kind::unknown, "unknown"},
    {axis_kind::hidden, "hidden"},
    {axis_kind::neuron, "neuron"},
    {axis_kind::query, "query"},
    {axis_kind::key, "key"},
    {axis_kind::value, "value"},
    {axis_kind::output, "output"},
    {axis_kind::expert, "expert"},
    {axis_kind::latent, "latent"},
    {axis_kind::channel, "channel"},
    {axis_kind::vocab, "vocab"},
    {axis_kind::position, "position"},
    {axis_kind::classes, "classes"},
    {axis_kind::head_dim, "head_dim"},
    {axis_kind::constant, "constant"},
}};

}  // namespace

std::string_view axis_kind_name(axis_kind kind) noexcept {
  for (const auto& [k, name] : names)
    if (k == kind) return name;
  return "unknown";
}

std::optional<axis_kind> parse_axis_kind(std::string_view name) noexcept {
  for (const auto& [k, text] : names)
    if (text == name) return k;
  return std::nullopt;
}

std::string_view axis_meaning(axis_kind kind) noexcept {
  switch (kind) {
    case axis_kind::vocab: return "tokens";
    case axis_kind::position: return "positions";
    case axis_kind::classes: return "output classes";
    case axis_kind::head_dim: return "dimensions paired with RoPE frequencies";
    case axis_kind::constant: return "a fixed buffer";
    case axis_kind::unknown: return "units of unknown meaning";
    default: return "units with arbitrary labels";
  }
}

std::string axes_text(const std::vector<axis_kind>& axes) {
  std::string text = "[";
  for (std::size_t i = 0; i < axes.size(); ++i) {
    if (i > 0) text += ", ";
    text += axis_kind_name(axes[i]);
  }
  return text + "]";
}

}  // namespace lineage
