#pragma once
// Expert edits of a derivation (permute-experts, drop-experts): which parent expert each routed
// expert of the child copies, the renumbered tensor names, and the router rows that go with them.
// Values are copied, never changed, so a test can hold every child expert against its source.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "synth/model_reader.hpp"
#include "synth/synth.hpp"

namespace lineage::synth {

// True for the kinds that reorder or remove routed experts.
[[nodiscard]] bool edits_experts(derivation_kind kind) noexcept;

struct routed_expert {
  std::uint64_t layer = 0;
  std::uint64_t expert = 0;
};

// "model.layers.3.mlp.experts.7.up_proj.weight" -> {3, 7}; nullopt for every other tensor (the
// shared experts included: they are not routed, so no edit touches them).
[[nodiscard]] std::optional<routed_expert> routed_expert_of(std::string_view name);

// `name` (which must be a routed-expert tensor) with its expert index replaced by `expert`.
[[nodiscard]] std::string with_routed_expert(std::string_view name, std::uint64_t expert);

// The layer of a router tensor, "model.layers.L.mlp.gate.weight" (one row per routed expert) or
// "model.layers.L.mlp.gate.e_score_correction_bias" (one element per routed expert); nullopt for
// every other tensor.
[[nodiscard]] std::optional<std::uint64_t> router_layer_of(std::string_view name);

// The routed-expert count of each MoE layer of the parent (by layer), from its router rows. Throws
// input_error when an expert tensor has no router or an index past its rows, or when
// config.json's n_routed_experts disagrees with the rows.
[[nodiscard]] std::map<std::uint64_t, std::uint64_t> routed_expert_counts(
    const stored_model& parent, const std::filesystem::path& from);

// For each MoE layer, child expert j copies parent expert sources[layer][j].
using expert_sources = std::map<std::uint64_t, std::vector<std::uint64_t>>;

// permute-experts: per layer a uniformly random permutation drawn from (seed, layer), redrawn
// while it is the identity (a "permuted" child equal to its parent would test nothing);
// drop-experts: the experts not listed, in order. Throws usage_error when the parent has no MoE
// layer, or the --experts list is empty, names an expert twice or past the last one, or would
// drop every expert.
[[nodiscard]] expert_sources child_expert_sources(
    const derivation& how, const std::map<std::uint64_t, std::uint64_t>& counts);

// out row j = in row sources[j], for a tensor whose leading dimension has `rows` rows.
void gather_rows(std::span<const std::byte> in, std::uint64_t rows,
                 std::span<const std::uint64_t> sources, std::span<std::byte> out);

// The config.json changes of an expert edit (drop-experts: n_routed_experts and a capped
// num_experts_per_tok) and its provenance: "expert_permutation" {"L": [parent expert of child
// expert 0, 1, ...]} or "dropped_experts" [sorted] with "source_experts" [kept, in order].
void record_expert_edit(const derivation& how, const expert_sources& sources,
                        nlohmann::json& config, nlohmann::json& provenance);

}  // namespace lineage::synth
