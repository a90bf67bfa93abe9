// The test units: which axis each tensor pair's null permutes, and which tensors are permuted by
// one draw together.
//
// Under the null hypothesis (B trained independently of A) B's law is invariant under its
// architecture's symmetry group, a product of components: the hidden dimensions (one for the whole
// model), each MLP's neurons, each layer's attention heads and, inside them, the value dimensions,
// each MoE layer's experts, each low-rank bottleneck, and, in models of unknown type, the inferred
// channel sizes. A tensor is tested in the unit of the latest component (in the order below) that
// moves one of its axes, by permuting that axis only; its other axes belong to earlier components
// or to none. Then no unit's statistic moves under a later unit's component, and drawing the units'
// permutations independently gives p-values that are independent and exactly uniform under the null,
// so Fisher's method combines them exactly (docs/CALIBRATION.md). Axes whose units mean the same in
// every model (tokens, positions, classes, RoPE dimensions, fixed buffers) are never permuted.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "plan/plan_views.hpp"

namespace lineage {
namespace {

// A component of the symmetry group, as a tensor's axis belongs to it.
struct component {
  int rank = 0;       // position in the unit order: hidden 0, channels 1, latent and experts 2, heads 3,
                      // values and neurons 4
  std::string kind;   // the unit kind
  std::string label;  // identifies the component
  int layer = -1;
  std::uint64_t size = 0;  // channels: the width (orders channel units)
  auto key() const { return std::tie(rank, size, label); }
};

// "mlp.experts.gate_proj.weight" → "mlp.experts": the module a parameter belongs to.
std::string scope_of(std::string_view role) {
  std::size_t cut = role.size();
  for (int dots = 0; dots < 2; ++dots) {
    const std::size_t dot = role.rfind('.', cut - 1);
    if (dot == std::string_view::npos || dot == 0) return "";
    cut = dot;
  }
  return std::string(role.substr(0, cut));
}

std::optional<component> component_of(axis_kind kind, const tensor_key& key, std::uint64_t size) {
  const std::string scope = scope_of(key.role);
  const std::string where = fmt::format("layer {} {}", key.layer, scope);
  switch (kind) {
    case axis_kind::hidden: return component{0, "hidden", "hidden dimensions", -1, 0};
    case axis_kind::channel:
      return component{1, "channels", fmt::format("channels of width {}", size), -1, size};
    case axis_kind::latent: return component{2, "latent", where + " latent", key.layer, 0};
    case axis_kind::expert: return component{2, "experts", where + " experts", key.layer, 0};
    case axis_kind::query:
    case axis_kind::key: return component{3, "heads", where + " heads", key.layer, 0};
    case axis_kind::value:
    case axis_kind::output: return component{4, "values", where + " values", key.layer, 0};
    case axis_kind::neuron:
      return component{4, "neurons",
                       key.expert >= 0 ? fmt::format("{} {} neurons", where, key.expert) : where + " neurons",
                       key.layer, 0};
    default: return std::nullopt;
  }
}

// The dimension a pair's null permutes and its component, or the reason there is none.
struct chosen_test {
  int axis = -1;
  component unit;
  std::string untested;
};

chosen_test choose(const tensor_pair& pair) {
  chosen_test chosen;
  const auto& shape = pair.a.shape;
  if (shape.empty() || pair.axes.size() != shape.size()) {
    chosen.untested = "a scalar";
    return chosen;
  }
  std::vector<std::optional<component>> found;
  for (std::size_t d = 0; d < shape.size(); ++d) found.push_back(component_of(pair.axes[d], pair.key, shape[d]));
  for (std::size_t d = 0; d < found.size(); ++d) {
    if (!found[d]) continue;
    if (chosen.axis < 0 || chosen.unit.key() < found[d]->key()) {
      chosen.axis = static_cast<int>(d);
      chosen.unit = *found[d];
    }
  }
  if (chosen.axis < 0) {
    const auto meaningful = std::find_if(pair.axes.begin(), pair.axes.end(), [](axis_kind k) { return !is_symmetric(k); });
    chosen.untested = fmt::format("no axis whose labels are arbitrary (axes {}: {})", axes_text(pair.axes),
                                  axis_meaning(meaningful != pair.axes.end() ? *meaningful : axis_kind::unknown));
    return chosen;
  }
  for (std::size_t d = 0; d < found.size(); ++d)
    if (static_cast<int>(d) != chosen.axis && found[d] && found[d]->label == chosen.unit.label) {
      chosen.axis = -1;
      chosen.untested = fmt::format("two axes under one symmetry ({}), which a null would have to permute together",
                                    axes_text(pair.axes));
      return chosen;
    }
  if (chosen.axis > 1) {
    chosen.untested = fmt::format("its symmetric axis is dimension {} of {}", chosen.axis, axes_text(pair.axes));
    chosen.axis = -1;
  }
  if (!pair.rows_a.empty() && chosen.axis == 0) {
    chosen.axis = -1;
    chosen.untested = "rows paired by shared tokens cannot be permuted";
  }
  return chosen;
}

}  // namespace

void choose_tests(work_plan& plan) {
  std::map<std::tuple<int, std::uint64_t, std::string>, component> components;
  std::vector<std::optional<component>> of_pair(plan.pairs.size());
  for (std::size_t p = 0; p < plan.pairs.size(); ++p) {
    auto& pair = plan.pairs[p];
    const chosen_test chosen = choose(pair);
    pair.test_axis = chosen.axis;
    pair.untested = chosen.untested;
    if (chosen.axis < 0) continue;
    components.emplace(chosen.unit.key(), chosen.unit);
    of_pair[p] = chosen.unit;
  }
  plan.units.clear();
  std::map<std::string, std::int32_t> index;
  for (const auto& [order, unit] : components) {
    index[unit.label] = static_cast<std::int32_t>(plan.units.size());
    symmetry_unit shell;
    shell.kind = unit.kind;
    shell.label = unit.label;
    shell.layer = unit.layer;
    plan.units.push_back(std::move(shell));
  }
  for (std::size_t p = 0; p < plan.pairs.size(); ++p)
    plan.pairs[p].test_unit = of_pair[p] ? index.at(of_pair[p]->label) : -1;
}

}  // namespace lineage
