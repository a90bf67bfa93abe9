#include "shard/symmetry_draw.hpp"

#include <cmath>

#include "core/error.hpp"

namespace lineage {
namespace {

using form = symmetry_group::form;
using role = axis_layout::role;

std::uint64_t blocks_of(const symmetry_group& group, const axis_layout& layout) noexcept {
  if (layout.kind == role::plain) return 0;
  return layout.kind == role::query ? group.kv_heads * group.group : group.kv_heads;
}

double log10_factorial(std::uint64_t n) noexcept { return std::lgamma(static_cast<double>(n) + 1) / std::log(10.0); }

}  // namespace

std::string_view group_form_name(symmetry_group::form kind) noexcept {
  switch (kind) {
    case form::plain: return "plain";
    case form::heads: return "heads";
    case form::within: return "within";
    case form::cyclic: return "cyclic";
  }
  return "";
}

std::optional<symmetry_group::form> group_form_named(std::string_view name) noexcept {
  for (const form kind : {form::plain, form::heads, form::within, form::cyclic})
    if (group_form_name(kind) == name) return kind;
  return std::nullopt;
}

const char* null_draws_name(null_draws draws) noexcept {
  switch (draws) {
    case null_draws::automatic: return "auto";
    case null_draws::random: return "random";
    case null_draws::cyclic: return "cyclic";
  }
  return "";
}

std::optional<null_draws> null_draws_named(std::string_view name) noexcept {
  for (const null_draws draws : {null_draws::automatic, null_draws::random, null_draws::cyclic})
    if (name == null_draws_name(draws)) return draws;
  return std::nullopt;
}

bool fits(const symmetry_group& group, const axis_layout& layout, std::uint64_t units) noexcept {
  if (moves_units(group)) return layout.kind == role::plain && units == group.units && units >= 2;
  const std::uint64_t blocks = blocks_of(group, layout);
  if (blocks == 0 || layout.block_size == 0 || units != blocks * layout.block_size) return false;
  if (group.kind == form::within && layout.block_size != group.within) return false;
  if (group.kind == form::heads && group.within > 0 && layout.block_size != group.within) return false;
  if (!layout.block_component.empty()) {
    if (group.kind != form::within || layout.block_component.size() != blocks) return false;
    for (const std::uint32_t c : layout.block_component)
      if (c >= group.kv_heads) return false;
  }
  return true;
}

double log10_group_size(const symmetry_group& group) noexcept {
  switch (group.kind) {
    case form::plain: return log10_factorial(group.units);
    case form::cyclic: return group.units > 0 ? std::log10(static_cast<double>(group.units)) : 0;
    case form::heads:
      return log10_factorial(group.kv_heads) +
             static_cast<double>(group.kv_heads) * (log10_factorial(group.group) + log10_factorial(group.within));
    case form::within: return static_cast<double>(group.kv_heads) * log10_factorial(group.within);
  }
  return 0;
}

std::vector<std::uint32_t> cyclic_order(const symmetry_group& group, std::uint64_t seed) {
  random_stream stream(seed, "symmetry null", "cyclic order");
  std::vector<std::uint32_t> order(static_cast<std::size_t>(group.units));
  random_permutation(stream, order);
  return order;
}

std::vector<std::uint32_t> cyclic_shifts(const symmetry_group& group, std::uint64_t seed) {
  random_stream stream(seed, "symmetry null", "cyclic shifts");
  std::vector<std::uint32_t> shifts(static_cast<std::size_t>(group.units > 1 ? group.units - 1 : 0));
  random_permutation(stream, shifts);
  for (auto& shift : shifts) ++shift;
  return shifts;
}

symmetry_draws::symmetry_draws(const symmetry_group& group, std::uint64_t seed)
    : group_(group), stream_(seed, "symmetry null", "draws") {
  if (moves_units(group)) plain_.resize(static_cast<std::size_t>(group.units));
  if (group.kind == form::cyclic) {
    order_ = cyclic_order(group, seed);
    shifts_ = cyclic_shifts(group, seed);
    position_.resize(order_.size());
    for (std::size_t j = 0; j < order_.size(); ++j) position_[order_[j]] = static_cast<std::uint32_t>(j);
  }
  if (moves_units(group)) return;
  kv_.resize(static_cast<std::size_t>(group.kv_heads));
  in_group_.assign(kv_.size(), std::vector<std::uint32_t>(static_cast<std::size_t>(group.group)));
  inside_.assign(kv_.size(), std::vector<std::uint32_t>(static_cast<std::size_t>(group.within)));
}

void symmetry_draws::draw() {
  if (group_.kind == form::cyclic) {
    // The next shift s: unit i (at position p of σ) meets the unit at position p + s.
    const std::uint64_t n = order_.size(), shift = shifts_[drawn_++ % shifts_.size()];
    for (std::size_t i = 0; i < n; ++i) plain_[i] = order_[(position_[i] + shift) % n];
    return;
  }
  if (group_.kind == form::plain) {
    random_permutation(stream_, plain_);
    return;
  }
  if (group_.kind == form::heads) {
    random_permutation(stream_, kv_);
    for (auto& tau : in_group_) random_permutation(stream_, tau);
  }
  for (auto& rho : inside_) random_permutation(stream_, rho);
}

void symmetry_draws::next(const axis_layout& layout, std::span<std::uint32_t> out) {
  draw();
  expand(layout, out);
}

void symmetry_draws::expand(const axis_layout& layout, std::span<std::uint32_t> out) const {
  if (moves_units(group_)) {
    if (out.size() != plain_.size()) throw internal_error("symmetry draw: axis of the wrong length");
    std::copy(plain_.begin(), plain_.end(), out.begin());
    return;
  }
  const std::uint64_t blocks = blocks_of(group_, layout), size = layout.block_size, g = group_.group;
  if (blocks * size != out.size()) throw internal_error("symmetry draw: axis of the wrong length");
  for (std::uint64_t b = 0; b < blocks; ++b) {
    std::uint64_t source = b, component = layout.kind == role::query ? b / g : b;
    if (group_.kind == form::heads) {
      const std::uint64_t j = layout.kind == role::query ? b / g : b;
      component = kv_[j];
      source = layout.kind == role::query ? component * g + in_group_[j][b % g] : component;
    } else if (!layout.block_component.empty()) {
      component = layout.block_component[b];
    }
    const std::vector<std::uint32_t>* inside = group_.within > 0 ? &inside_[component] : nullptr;
    for (std::uint64_t d = 0; d < size; ++d)
      out[b * size + d] = static_cast<std::uint32_t>(source * size + (inside ? (*inside)[d] : d));
  }
}

}  // namespace lineage
