// What each paired tensor's axes mean: from the architecture rules (configs/architectures/*.yaml,
// `axes:`), or, for models of a type no rule file knows, inferred from how the tensors' shapes
// chain inside each layer.
//
// The inference is deliberately narrow, because an axis wrongly taken for an arbitrary one turns
// shared structure into false evidence: an axis is internal when its size is dimension 0 (the
// output) of one weight of a layer and dimension 1 (the input) of another weight of the same layer
// (the hidden units between two linear maps, the channels between two convolutions, the residual
// stream a block reads and writes); the tensors outside the numbered layers form one more such group.
// A network's inputs (pixels, mel bins) and outputs (classes, coordinates) are never both, so they
// stay unknown. Tensors whose names say attention are left out (their head structure cannot be seen
// in shapes), and so are names of token or position tables and of fixed buffers. Internal axes of one
// size are one symmetry for the whole model: merging what might be separate symmetries is always a
// symmetry, splitting a tied one (a residual stream) would not be.
#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string_view>

#include "plan/plan_views.hpp"

namespace lineage {
namespace {

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// Names of attention parts, of token or position tables and of fixed or running buffers: never
// given an inferred axis.
bool excluded_from_inference(std::string_view role) {
  static constexpr std::array<std::string_view, 21> markers = {
      "attn",  "attention", "query",  "key",   "value", "qkv",     "in_proj",  "out_proj", "inv_freq", "basis", "window",
      "mask",  "freqs",     "mel",    "filters", "buffer", "position", "embed", "token", "vocab", "pos_"};
  const std::string name = lower(role);
  return std::any_of(markers.begin(), markers.end(), [&](std::string_view m) { return contains(name, m); });
}

// A weight whose dimensions 0 and 1 can be an output and an input. Tensors outside the numbered
// layers chain among themselves (a small network's conv1, fc1, fc2 have no layer index).
bool chains(const tensor_key& key, const std::vector<std::uint64_t>& shape) {
  return shape.size() >= 2 && !excluded_from_inference(key.role);
}

// Sizes internal to some layer (an output of one of its weights and an input of another), and per
// layer the sizes internal to it.
std::map<int, std::set<std::uint64_t>> internal_sizes(const keyed_views& views) {
  std::map<int, std::map<std::uint64_t, std::pair<int, int>>> seen;  // layer → size → (as output, as input)
  for (const auto& [key, list] : views) {
    if (list.size() != 1) continue;
    const auto shape = plan_side(list.front()).shape;
    if (!chains(key, shape) || shape[0] == shape[1]) continue;
    seen[key.layer][shape[0]].first += 1;
    seen[key.layer][shape[1]].second += 1;
  }
  std::map<int, std::set<std::uint64_t>> internal;
  for (const auto& [layer, sizes] : seen)
    for (const auto& [size, uses] : sizes)
      if (uses.first > 0 && uses.second > 0 && size >= 2) internal[layer].insert(size);
  return internal;
}

// One side's inferred axes, by key.
std::map<tensor_key, std::vector<axis_kind>> inferred_axes(const keyed_views& views) {
  const auto internal = internal_sizes(views);
  std::map<tensor_key, std::vector<axis_kind>> axes;
  for (const auto& [key, list] : views) {
    if (list.size() != 1) continue;
    const auto shape = plan_side(list.front()).shape;
    std::vector<axis_kind> kinds(shape.size(), axis_kind::unknown);
    const auto layer = internal.find(key.layer);
    const bool eligible = layer != internal.end() && !excluded_from_inference(key.role) &&
                          (shape.size() == 1 || (shape.size() >= 2 && shape[0] != shape[1]));
    if (eligible)
      for (std::size_t d = 0; d < std::min<std::size_t>(shape.size(), 2); ++d)
        if (layer->second.count(shape[d]) != 0) kinds[d] = axis_kind::channel;
    axes.emplace(key, std::move(kinds));
  }
  return axes;
}

// Both sides must agree; where they do not, the axis is unknown.
std::vector<axis_kind> agreed(std::vector<axis_kind> a, const std::vector<axis_kind>& b) {
  if (a.size() != b.size()) return std::vector<axis_kind>(a.size());
  for (std::size_t d = 0; d < a.size(); ++d)
    if (a[d] != b[d]) a[d] = axis_kind::unknown;
  return a;
}

}  // namespace

void assign_axes(work_plan& plan, const architecture* arch_a, const architecture* arch_b, const keyed_views& views_a,
                 const keyed_views& views_b) {
  std::map<tensor_key, std::vector<axis_kind>> inferred_a, inferred_b;
  if (arch_a == nullptr || arch_b == nullptr) {
    inferred_a = inferred_axes(views_a);
    inferred_b = inferred_axes(views_b);
  }
  for (auto& pair : plan.pairs) {
    const std::size_t rank = pair.a.shape.size();
    if (arch_a != nullptr && arch_b != nullptr) {
      pair.axes = agreed(arch_a->axes(pair.key.role, rank), arch_b->axes(pair.key.role, pair.b.shape.size()));
      continue;
    }
    const auto a = inferred_a.find(pair.key), b = inferred_b.find(pair.key);
    pair.axes = a != inferred_a.end() && b != inferred_b.end() ? agreed(a->second, b->second)
                                                                : std::vector<axis_kind>(rank);
  }
}

}  // namespace lineage
