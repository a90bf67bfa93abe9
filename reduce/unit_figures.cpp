#include "reduce/unit_figures.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "reduce/null_figures.hpp"
#include "reduce/report_model.hpp"

namespace lineage {
namespace {

// A member's statistic under the identity (last) and under each draw, standardised over all K + 1.
std::vector<double> standardised(const null_samples& samples) {
  const bool directions = samples.directions && samples.direction_t.size() == samples.t.size();
  std::vector<double> values = directions ? samples.direction_t : samples.t;
  values.push_back(directions ? samples.direction_observed : samples.observed);
  double mean = 0;
  for (const double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double squares = 0;
  for (const double v : values) squares += (v - mean) * (v - mean);
  const double sd = std::sqrt(squares / static_cast<double>(values.size() - 1));
  for (double& v : values) v = sd > 0 ? (v - mean) / sd : 0.0;
  return values;
}

bool bitwise_identical(const tensor_result& t) {
  return t.moments.elements > 0 && t.moments.bitwise_equal == t.moments.elements;
}

}  // namespace

std::string group_text(const symmetry_group& group) {
  switch (group.kind) {
    case symmetry_group::form::plain: return fmt::format("any permutation of {} units", group.units);
    case symmetry_group::form::cyclic:
      return fmt::format("the cyclic shifts of a random order of {} units", group.units);
    case symmetry_group::form::heads:
      return fmt::format("{} query heads in {} KV groups permuted whole{}", group.kv_heads * group.group,
                         group.kv_heads,
                         group.within > 0 ? fmt::format(", and the {} dimensions inside each", group.within) : "");
    case symmetry_group::form::within:
      return fmt::format("the {} dimensions inside each of {} KV heads (values and outputs)", group.within,
                         group.kv_heads);
  }
  return "";
}

std::vector<unit_figures> derive_unit_figures(const work_plan& plan, const std::vector<null_samples>& nulls,
                                              const std::vector<tensor_result>& tensors) {
  std::vector<unit_figures> units;
  for (const auto& unit : plan.units) {
    unit_figures f;
    f.kind = unit.kind;
    f.label = unit.label;
    f.layer = unit.layer;
    f.group = group_text(unit.group);
    f.spec = unit.group;
    f.log10_group_size = log10_group_size(unit.group);
    f.permutations = unit.permutations;
    f.members = unit.members.size();
    f.from_products = std::all_of(unit.members.begin(), unit.members.end(),
                                  [&](std::uint32_t m) { return plan.nulls.at(m).from_products; });
    std::vector<double> joint(static_cast<std::size_t>(unit.permutations) + 1, 0.0);
    for (const std::uint32_t m : unit.members) {
      const std::uint32_t pair = plan.nulls.at(m).pair;
      const null_samples& samples = nulls.at(pair);
      const tensor_result& tensor = tensors.at(pair);
      const std::string name = tensor.pair.a.name;
      if (!samples.usable || samples.t.size() != unit.permutations) {
        f.left_out.push_back(name + ": " + (samples.reason.empty() ? "no null" : samples.reason));
        continue;
      }
      // An axis inferred from shapes may belong to a fixed buffer that no name gave away; a buffer is
      // bitwise identical in unrelated models, and no symmetry moves it. Declared axes are never a
      // buffer's, and there identity is what a copied layer looks like.
      if (unit.kind == "channels" && bitwise_identical(tensor)) {
        f.left_out.push_back(name + ": bitwise identical in both models (perhaps a fixed buffer, which no symmetry moves)");
        continue;
      }
      const std::vector<double> z = standardised(samples);
      for (std::size_t k = 0; k < z.size(); ++k) joint[k] += z[k];
      f.used += 1;
      if (f.strongest.empty() || z.back() > f.strongest_z) f.strongest = name, f.strongest_z = z.back();
    }
    if (f.used == 0) {
      f.reason = "no member with a usable null";
      units.push_back(std::move(f));
      continue;
    }
    f.available = true;
    f.statistic = joint.back();
    joint.pop_back();
    const double u = 1 - random_stream(unit.seed, "symmetry unit", "randomizer").uniform();
    const sum_test test = test_sum(f.statistic, joint, u);
    f.z = test.z;
    f.p = test.p_value;
    f.p_floor = test.p_floor;
    units.push_back(std::move(f));
  }
  return units;
}

}  // namespace lineage
