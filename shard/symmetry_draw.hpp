#pragma once
// Random elements of an architecture's symmetry group, as the nulls draw them.
//
// A null compares A with B after a random symmetry has been applied to B: a permutation of the
// units of one symmetric axis (rows of a matrix, its columns, elements of a vector). Every tensor
// of one test unit (plan/plan_symmetry.cpp) draws from the unit's seed, so the draw k that permutes
// the rows of gate_proj is the one that permutes the rows of up_proj and the columns of
// down_proj, and the head permutation that moves q_proj's rows moves k_proj's with it. Each draw
// is uniform on the unit's group, which is what makes the randomization p exact.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/random_stream.hpp"

namespace lineage {

// The group of one test unit.
struct symmetry_group {
  enum class form : std::uint8_t {
    plain,   // any permutation of `units` units (neurons, hidden dimensions, experts, ...)
    heads,   // attention heads: KV heads permuted with their groups, query heads within a group;
             // with `within` > 0, also the dimensions inside each KV head (no RoPE)
    within,  // only the `within` dimensions inside each of `kv_heads` heads (values and outputs)
    cyclic,  // the `units` cyclic shifts of one random order σ of the units (a subgroup of plain's):
             // the draws are its non-identity shifts in a random order without repetition (K of
             // them; K = units − 1 enumerates the group), so the randomization p stays exact
  };
  form kind = form::plain;
  std::uint64_t units = 0;     // plain, cyclic: the units permuted
  std::uint64_t kv_heads = 0;  // heads, within: KV heads (within: the heads whose dimensions move)
  std::uint64_t group = 1;     // heads: query heads per KV head
  std::uint64_t within = 0;    // dimensions permuted inside a head (0: none)

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & kind & units & kv_heads & group & within;
  }
};

// One tensor's axis in its unit's group: plain (the axis is the group's units), query heads or KV
// heads in blocks of `block_size`, or blocks whose inside is permuted (block b takes the
// permutation of KV head block_component[b]; empty: b itself, or b / group for query blocks).
struct axis_layout {
  enum class role : std::uint8_t { plain, query, key_value };
  role kind = role::plain;
  std::uint64_t block_size = 1;
  std::vector<std::uint32_t> block_component;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & kind & block_size & block_component;
  }
};

// The form's name in reports ("plain", "heads", "within", "cyclic") and back (nothing: no form).
[[nodiscard]] std::string_view group_form_name(symmetry_group::form kind) noexcept;
[[nodiscard]] std::optional<symmetry_group::form> group_form_named(std::string_view name) noexcept;

// Which elements of a unit's plain group (any permutation of its units) the nulls draw: K random
// permutations, or K of the n − 1 cyclic shifts of one random order of the units (a subgroup, so
// the p is as exact; direct nulls then compute every shift at once by FFT instead of K passes).
// Automatic: shifts when n − 1 is at least the K the unit draws, its nulls are not all cheap from
// cross products, and every shift costs less than the K direct passes.
enum class null_draws : std::uint8_t { automatic, random, cyclic };
[[nodiscard]] const char* null_draws_name(null_draws draws) noexcept;  // "auto", "random", "cyclic"
[[nodiscard]] std::optional<null_draws> null_draws_named(std::string_view name) noexcept;

// Whether the group moves single units (plain or cyclic) rather than heads.
[[nodiscard]] constexpr bool moves_units(const symmetry_group& group) noexcept {
  return group.kind == symmetry_group::form::plain || group.kind == symmetry_group::form::cyclic;
}

// The order σ of a cyclic group's units that its shifts act on: shift s takes the unit at
// position j of σ to position j + s (mod units). Drawn first from the unit's seed.
[[nodiscard]] std::vector<std::uint32_t> cyclic_order(const symmetry_group& group, std::uint64_t seed);
// The shifts a cyclic group's draws take, in draw order: 1 … units − 1 in a random order (draw k
// takes element k mod (units − 1)). Drawn from the unit's seed after σ.
[[nodiscard]] std::vector<std::uint32_t> cyclic_shifts(const symmetry_group& group, std::uint64_t seed);

// The draws of one unit, in order: the same sequence for every tensor of the unit.
class symmetry_draws {
 public:
  symmetry_draws(const symmetry_group& group, std::uint64_t seed);

  // Draws the next element of the group and writes what it does to the axis `layout` describes:
  // out[i] = the unit of B that meets unit i of A (out.size() units).
  void next(const axis_layout& layout, std::span<std::uint32_t> out);

 private:
  void draw();
  void expand(const axis_layout& layout, std::span<std::uint32_t> out) const;

  symmetry_group group_;
  random_stream stream_;
  std::vector<std::uint32_t> plain_, kv_;    // plain, cyclic: the permutation; heads: σ over KV heads
  std::vector<std::uint32_t> order_, position_, shifts_;  // cyclic: σ, its inverse, the shifts in draw order
  std::uint64_t drawn_ = 0;                               // cyclic: draws so far
  std::vector<std::vector<std::uint32_t>> in_group_, inside_;  // τ_j (query heads), ρ_j (dimensions)
};

// Whether `units` units of an axis laid out as `layout` fit `group` (block sizes and counts).
[[nodiscard]] bool fits(const symmetry_group& group, const axis_layout& layout, std::uint64_t units) noexcept;

// log10 of the number of elements of `group` acting on such an axis (for the report: a group with
// few elements cannot give small p-values).
[[nodiscard]] double log10_group_size(const symmetry_group& group) noexcept;

}  // namespace lineage
