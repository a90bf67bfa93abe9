#include "synth/upcycle.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "synth/weight_names.hpp"

namespace lineage::synth {

namespace {

constexpr double row_scale_log_sigma = 0.2;

// Mixtral's name of expert `expert`'s copy of a dense projection.
std::string expert_name(std::uint64_t layer, std::uint64_t expert, weight_kind kind) {
  const char* projection = kind == weight_kind::mlp_gate ? "w1"
                           : kind == weight_kind::mlp_up ? "w3"
                                                         : "w2";
  return fmt::format("model.layers.{}.block_sparse_moe.experts.{}.{}.weight", layer, expert,
                     projection);
}

void check_dense(const stored_model& parent) {
  for (const char* key : {"n_routed_experts", "num_local_experts", "num_experts"}) {
    const auto found = parent.config.find(key);
    if (found != parent.config.end() && found->is_number() && *found != 0)
      throw usage_error(fmt::format(
          "synth derive: --kind upcycle needs a dense parent; this one has {} {} (model_type {})",
          key, found->dump(), parent.config.value("model_type", std::string("?"))));
  }
  for (const auto& tensor : parent.tensors) {
    const auto name = classify_weight(tensor.name);
    const bool moe = name.kind == weight_kind::router || name.kind == weight_kind::router_bias ||
                     ((name.kind == weight_kind::mlp_gate || name.kind == weight_kind::mlp_up ||
                       name.kind == weight_kind::mlp_down) &&
                      name.mlp != fmt::format("model.layers.{}.mlp", name.layer));
    if (moe)
      throw usage_error(fmt::format(
          "synth derive: --kind upcycle needs a dense parent; tensor {} belongs to an MoE layer",
          tensor.name));
  }
}

std::uint64_t experts_per_token(std::uint64_t experts) {
  return std::min<std::uint64_t>(2, experts);
}

}  // namespace

upcycle_plan plan_upcycle(const stored_model& parent, const derivation& how, double noise) {
  check_dense(parent);
  const std::uint64_t experts = how.expert_count.value_or(0);
  upcycle_plan plan;
  // Each layer's gate_proj: the router's shape [experts, hidden] and dtype.
  std::map<std::uint64_t, const stored_tensor*> gates;
  std::map<std::uint64_t, int> projections;
  for (std::size_t index = 0; index < parent.tensors.size(); ++index) {
    const stored_tensor& stored = parent.tensors[index];
    const auto name = classify_weight(stored.name);
    const dtype type = how.type.value_or(stored.type);
    const bool mlp = name.kind == weight_kind::mlp_gate || name.kind == weight_kind::mlp_up ||
                     name.kind == weight_kind::mlp_down;
    if (!mlp) {
      plan.tensors.push_back({.target = {stored.name, type, stored.shape}, .source = index});
      continue;
    }
    if (stored.shape.size() != 2)
      throw input_error(
          fmt::format("synth derive: --kind upcycle: {} is not a matrix", stored.name));
    if (name.kind == weight_kind::mlp_gate) gates[name.layer] = &stored;
    ++projections[name.layer];
    for (std::uint64_t expert = 0; expert < experts; ++expert)
      plan.tensors.push_back(
          {.target = {expert_name(name.layer, expert, name.kind), type, stored.shape},
           .source = index,
           .relative_noise = noise});
  }
  if (gates.empty())
    throw usage_error("synth derive: --kind upcycle: the parent has no dense MLP to upcycle");
  for (const auto& [layer, count] : projections)
    if (count != 3 || !gates.count(layer))
      throw input_error(fmt::format(
          "synth derive: --kind upcycle: layer {} has {} of the 3 projections gate, up, down",
          layer, count));
  for (const auto& [layer, gate] : gates)
    plan.tensors.push_back(
        {.target = {fmt::format("model.layers.{}.block_sparse_moe.gate.weight", layer),
                    how.type.value_or(gate->type),
                    {experts, gate->shape[1]}},
         .source = std::nullopt});
  std::sort(
      plan.tensors.begin(), plan.tensors.end(),
      [](const child_tensor& x, const child_tensor& y) { return x.target.name < y.target.name; });

  auto& config = plan.record.config;
  config["model_type"] = "mixtral";
  config["architectures"] = {"MixtralForCausalLM"};
  config["num_local_experts"] = experts;
  config["num_experts_per_tok"] = experts_per_token(experts);
  plan.record.provenance["upcycled_from_dense"] = true;
  plan.record.provenance["experts"] = experts;
  plan.record.provenance["noise"] = noise;
  plan.record.provenance["seed"] = how.seed;
  return plan;
}

void draw_router(const output_tensor& router, std::uint64_t seed, std::span<float> out) {
  random_stream stream(seed, "derive upcycle", router.name);
  const std::size_t columns = router.shape.at(1);
  const double base_sigma = 1.0 / std::sqrt(static_cast<double>(columns));
  for (std::size_t row_start = 0; row_start < out.size(); row_start += columns) {
    const double sigma = base_sigma * std::exp(row_scale_log_sigma * stream.normal());
    for (std::size_t i = row_start; i < row_start + columns; ++i)
      out[i] = static_cast<float>(sigma * stream.normal());
  }
}

}  // namespace lineage::synth
