#include "synth/expert_edit.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "synth/layer_edit.hpp"
#include "synth/permutation_draw.hpp"

namespace lineage::synth {

namespace {

constexpr std::string_view experts_infix = "mlp.experts.";
constexpr std::string_view router_weight = "mlp.gate.weight";
constexpr std::string_view router_bias = "mlp.gate.e_score_correction_bias";

// Where the part of a decoder-layer tensor's name after "model.layers.L." starts.
std::optional<std::size_t> layer_rest_start(std::string_view name) {
  if (!decoder_layer_of(name)) return std::nullopt;
  return name.find('.', std::string_view("model.layers.").size()) + 1;
}

// Where the expert digits of `name` are: [first, last), up to the next dot.
struct expert_digits {
  std::size_t first = 0, last = 0;
  routed_expert address;
};

std::optional<expert_digits> find_expert_digits(std::string_view name) {
  const auto rest = layer_rest_start(name);
  if (!rest || name.substr(*rest, experts_infix.size()) != experts_infix) return std::nullopt;
  const std::size_t first = *rest + experts_infix.size();
  const std::size_t dot = name.find('.', first);
  if (dot == std::string_view::npos || dot == first) return std::nullopt;
  expert_digits digits{first, dot, {*decoder_layer_of(name), 0}};
  const auto [end, status] =
      std::from_chars(name.data() + first, name.data() + dot, digits.address.expert);
  if (status != std::errc() || end != name.data() + dot) return std::nullopt;
  return digits;
}

bool is_router_weight(std::string_view name) {
  const auto rest = layer_rest_start(name);
  return rest && name.substr(*rest) == router_weight;
}

std::vector<std::uint64_t> random_expert_permutation(std::uint64_t seed, std::uint64_t layer,
                                                     std::uint64_t count) {
  random_stream stream(seed, "derive permute-experts",
                       fmt::format("model.layers.{}.mlp.experts", layer));
  return non_identity_permutation(stream, count);
}

std::vector<std::uint64_t> kept_experts(const derivation& how,
                                        const std::map<std::uint64_t, std::uint64_t>& counts) {
  const std::string option = "--kind drop-experts --experts";
  if (how.experts.empty())
    throw usage_error(fmt::format("synth derive: {} names no expert", option));
  std::vector<std::uint64_t> listed = how.experts;
  std::sort(listed.begin(), listed.end());
  if (const auto twice = std::adjacent_find(listed.begin(), listed.end()); twice != listed.end())
    throw usage_error(fmt::format("synth derive: {} names expert {} twice", option, *twice));
  // Synth writes the same expert count in every MoE layer; check against the smallest anyway.
  const auto fewest = std::min_element(counts.begin(), counts.end(),
                                       [](auto& a, auto& b) { return a.second < b.second; });
  const auto [layer, count] = *fewest;
  if (listed.back() >= count)
    throw usage_error(
        fmt::format("synth derive: {} {}: expert {} is past the last expert {} of layer {}", option,
                    fmt::join(how.experts, ","), listed.back(), count - 1, layer));
  if (listed.size() == count)
    throw usage_error(fmt::format("synth derive: {} would drop all {} routed experts of layer {}",
                                  option, count, layer));
  std::vector<std::uint64_t> kept;
  for (std::uint64_t expert = 0; expert < count; ++expert)
    if (!std::binary_search(listed.begin(), listed.end(), expert)) kept.push_back(expert);
  return kept;
}

}  // namespace

bool edits_experts(derivation_kind kind) noexcept {
  return kind == derivation_kind::permute_experts || kind == derivation_kind::drop_experts;
}

std::optional<routed_expert> routed_expert_of(std::string_view name) {
  const auto digits = find_expert_digits(name);
  if (!digits) return std::nullopt;
  return digits->address;
}

std::string with_routed_expert(std::string_view name, std::uint64_t expert) {
  const auto digits = find_expert_digits(name);
  if (!digits) throw internal_error(fmt::format("synth: {} is not a routed-expert tensor", name));
  return fmt::format("{}{}{}", name.substr(0, digits->first), expert, name.substr(digits->last));
}

std::optional<std::uint64_t> router_layer_of(std::string_view name) {
  const auto rest = layer_rest_start(name);
  if (!rest) return std::nullopt;
  const auto suffix = name.substr(*rest);
  if (suffix != router_weight && suffix != router_bias) return std::nullopt;
  return decoder_layer_of(name);
}

std::map<std::uint64_t, std::uint64_t> routed_expert_counts(const stored_model& parent,
                                                            const std::filesystem::path& from) {
  std::map<std::uint64_t, std::uint64_t> counts;
  for (const auto& tensor : parent.tensors)
    if (is_router_weight(tensor.name)) {
      if (tensor.shape.size() != 2)
        throw input_error(fmt::format("{}: router {} is not a matrix", from.string(), tensor.name));
      counts[*decoder_layer_of(tensor.name)] = tensor.shape[0];
    }
  for (const auto& tensor : parent.tensors) {
    std::optional<std::uint64_t> layer, index;
    if (const auto expert = routed_expert_of(tensor.name)) {
      layer = expert->layer;
      index = expert->expert;
    } else if (const auto router = router_layer_of(tensor.name);
               router && !is_router_weight(tensor.name)) {
      layer = router;
    } else {
      continue;
    }
    const auto found = counts.find(*layer);
    if (found == counts.end())
      throw input_error(fmt::format("{}: tensor {} but no router model.layers.{}.{}", from.string(),
                                    tensor.name, *layer, router_weight));
    if (index && *index >= found->second)
      throw input_error(fmt::format("{}: tensor {}: expert {} is past the {} rows of the router",
                                    from.string(), tensor.name, *index, found->second));
    if (!index && tensor.shape != std::vector<std::uint64_t>{found->second})
      throw input_error(fmt::format("{}: tensor {} does not have one element per router row ({})",
                                    from.string(), tensor.name, found->second));
  }
  const auto configured = parent.config.find("n_routed_experts");
  if (configured != parent.config.end())
    for (const auto& [layer, count] : counts)
      if (!(configured->is_number_unsigned() && configured->get<std::uint64_t>() == count))
        throw input_error(
            fmt::format("{}: config.json n_routed_experts {} but layer {}'s router has {} rows",
                        from.string(), configured->dump(), layer, count));
  return counts;
}

expert_sources child_expert_sources(const derivation& how,
                                    const std::map<std::uint64_t, std::uint64_t>& counts) {
  if (counts.empty())
    throw usage_error(
        fmt::format("synth derive: --kind {}: the parent has no MoE layer (no model.layers.L.{})",
                    derivation_kind_name(how.kind), router_weight));
  expert_sources sources;
  if (how.kind == derivation_kind::permute_experts) {
    for (const auto& [layer, count] : counts)
      sources[layer] = random_expert_permutation(how.seed, layer, count);
    return sources;
  }
  const auto kept = kept_experts(how, counts);
  for (const auto& [layer, count] : counts) sources[layer] = kept;
  return sources;
}

void gather_rows(std::span<const std::byte> in, std::uint64_t rows,
                 std::span<const std::uint64_t> sources, std::span<std::byte> out) {
  const std::size_t row_bytes = rows == 0 ? 0 : in.size() / static_cast<std::size_t>(rows);
  if (row_bytes * rows != in.size() || out.size() != row_bytes * sources.size())
    throw internal_error("synth expert edit: row gather sizes disagree");
  for (std::size_t j = 0; j < sources.size(); ++j) {
    if (sources[j] >= rows) throw internal_error("synth expert edit: source row out of range");
    std::memcpy(out.data() + j * row_bytes,
                in.data() + static_cast<std::size_t>(sources[j]) * row_bytes, row_bytes);
  }
}

void record_expert_edit(const derivation& how, const expert_sources& sources,
                        nlohmann::json& config, nlohmann::json& provenance) {
  if (how.kind == derivation_kind::permute_experts) {
    nlohmann::json permutation = nlohmann::json::object();
    for (const auto& [layer, order] : sources) permutation[std::to_string(layer)] = order;
    provenance["seed"] = how.seed;
    provenance["expert_permutation"] = permutation;  // child expert j = parent expert [j]
    return;
  }
  std::vector<std::uint64_t> dropped = how.experts;
  std::sort(dropped.begin(), dropped.end());
  const std::vector<std::uint64_t>& kept = sources.begin()->second;
  provenance["dropped_experts"] = dropped;
  provenance["source_experts"] = kept;  // child expert j copies parent expert source_experts[j]
  config["n_routed_experts"] = kept.size();
  const auto per_token = config.find("num_experts_per_tok");
  if (per_token != config.end() && per_token->is_number_unsigned() &&
      per_token->get<std::uint64_t>() > kept.size())
    *per_token = kept.size();
}

}  // namespace lineage::synth
