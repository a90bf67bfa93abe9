// write_derived_model: a model made from a synth-written parent.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <vector>

#include "core/error.hpp"
#include "synth/child_values.hpp"
#include "synth/derive_options.hpp"
#include "synth/derive_plan.hpp"
#include "synth/derive_transforms.hpp"
#include "synth/disguise.hpp"
#include "synth/expert_edit.hpp"
#include "synth/layer_edit.hpp"
#include "synth/model_reader.hpp"
#include "synth/safetensors_writer.hpp"
#include "synth/synth.hpp"
#include "synth/tokenizer_generator.hpp"
#include "synth/upcycle.hpp"
#include "synth/value_codec.hpp"

namespace lineage::synth {

namespace {

constexpr std::pair<derivation_kind, std::string_view> kind_names[] = {
    {derivation_kind::copy, "copy"},
    {derivation_kind::noise, "noise"},
    {derivation_kind::drift, "drift"},
    {derivation_kind::dtype_change, "dtype"},
    {derivation_kind::reshard, "reshard"},
    {derivation_kind::drop_layers, "drop-layers"},
    {derivation_kind::duplicate_layers, "duplicate-layers"},
    {derivation_kind::permute_experts, "permute-experts"},
    {derivation_kind::drop_experts, "drop-experts"},
    {derivation_kind::permute_neurons, "permute-neurons"},
    {derivation_kind::permute_heads, "permute-heads"},
    {derivation_kind::permute_hidden, "permute-hidden"},
    {derivation_kind::prune_hidden, "prune-hidden"},
    {derivation_kind::flip_hidden, "flip-hidden"},
    {derivation_kind::rescale_norms, "rescale-norms"},
    {derivation_kind::extend_vocab, "extend-vocab"},
    {derivation_kind::upcycle, "upcycle"},
    {derivation_kind::fold_norms, "fold-norms"},
    {derivation_kind::rotate_hidden, "rotate-hidden"}};

void check_paths(const std::filesystem::path& from, const std::filesystem::path& out) {
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && std::filesystem::equivalent(from, out, ec))
    throw usage_error(
        fmt::format("synth derive: -o {} is the parent directory itself", out.string()));
}

std::map<std::string, std::uint64_t> checked_injections(const derivation& how,
                                                        const std::vector<child_tensor>& tensors,
                                                        const std::filesystem::path& from) {
  std::map<std::string, std::uint64_t> counts;
  for (const auto& injection : how.injections) {
    const auto found = std::find_if(tensors.begin(), tensors.end(), [&](const child_tensor& t) {
      return t.target.name == injection.tensor;
    });
    if (found == tensors.end())
      throw usage_error(fmt::format("synth derive: --inject-nonfinite: the model derived from {} "
                                    "has no tensor {}",
                                    from.string(), injection.tensor));
    if (injection.count == 0 || injection.count > found->target.element_count())
      throw usage_error(fmt::format("synth derive: --inject-nonfinite {}:{}: count must be 1..{}",
                                    injection.tensor, injection.count,
                                    found->target.element_count()));
    if (!counts.emplace(injection.tensor, injection.count).second)
      throw usage_error(
          fmt::format("synth derive: --inject-nonfinite names {} twice", injection.tensor));
  }
  return counts;
}

std::string directory_name(const std::filesystem::path& dir) {
  auto normal = dir.lexically_normal();
  if (normal.filename().empty()) normal = normal.parent_path();
  return normal.filename().string();
}

// The first first_k_dense_replace layers are dense and sources run in order, so the child's dense
// layers are those copied from a dense parent layer.
void renumber_dense_layers(nlohmann::json& config, const std::vector<std::uint64_t>& sources) {
  const auto dense = config.find("first_k_dense_replace");
  if (dense == config.end() || !dense->is_number_unsigned()) return;
  const auto parent_dense = dense->get<std::uint64_t>();
  *dense = static_cast<std::uint64_t>(std::count_if(
      sources.begin(), sources.end(), [&](std::uint64_t source) { return source < parent_dense; }));
}

nlohmann::json derived_config(const stored_model& parent, const std::filesystem::path& from,
                              const derivation& how, double scale,
                              const std::vector<std::uint64_t>& sources,
                              const expert_sources& experts, const derivation_record& record) {
  nlohmann::json config = parent.config;
  if (how.type) config["torch_dtype"] = std::string(torch_dtype_name(*how.type));
  if (edits_layers(how.kind)) {
    config["num_hidden_layers"] = sources.size();
    renumber_dense_layers(config, sources);
  }
  nlohmann::json provenance = {{"kind", std::string(derivation_kind_name(how.kind))},
                               {"parent_name", directory_name(from)},
                               {"parent", parent.config.value("lineage_synth", nlohmann::json())}};
  if (changes_every_value(how.kind)) {
    provenance["seed"] = how.seed;
    provenance["scale"] = scale;
  }
  if (how.type) provenance["dtype"] = std::string(dtype_name(*how.type));
  if (edits_layers(how.kind)) {
    std::vector<std::uint64_t> listed = how.layers;
    std::sort(listed.begin(), listed.end());
    provenance["layers"] = listed;
    provenance["source_layers"] = sources;  // child layer L copies parent layer source_layers[L]
  }
  if (edits_experts(how.kind)) record_expert_edit(how, experts, config, provenance);
  config.update(record.config);
  provenance.update(record.provenance);
  if (!how.injections.empty()) {
    nlohmann::json injected = nlohmann::json::object();
    for (const auto& injection : how.injections) injected[injection.tensor] = injection.count;
    provenance["nonfinite_injected"] = injected;
  }
  config["lineage_synth"] = provenance;
  return config;
}

// The parent's tokenizer.json, with a new piece per appended embedding row for extend-vocab.
std::string child_tokenizer(const stored_model& parent, const std::filesystem::path& from, const derivation& how,
                            const derivation_record& record) {
  if (how.kind != derivation_kind::extend_vocab || parent.tokenizer_json.empty()) return parent.tokenizer_json;
  const auto old_vocab = record.provenance.at("vocab_extension").at("old").get<std::uint64_t>();
  return extended_tokenizer_json(parent.tokenizer_json, (from / "tokenizer.json").string(), old_vocab,
                                 how.tokens.value_or(0), how.seed);
}

}  // namespace

std::string_view derivation_kind_name(derivation_kind kind) noexcept {
  for (const auto& [k, name] : kind_names)
    if (k == kind) return name;
  return "?";
}

std::optional<derivation_kind> parse_derivation_kind(std::string_view name) noexcept {
  for (const auto& [kind, spelling] : kind_names)
    if (spelling == name) return kind;
  return std::nullopt;
}

written_model write_derived_model(const std::filesystem::path& from,
                                  const std::filesystem::path& out, const derivation& how) {
  const double strength = checked_strength(how);
  check_paths(from, out);
  const stored_model parent = read_stored_model(from);
  // sources: the main stack, as num_hidden_layers counts it; layer_sources: with the MTP blocks,
  // which stay last whatever the edit.
  std::vector<std::uint64_t> sources, layer_sources;
  if (edits_layers(how.kind)) {
    const parent_layers layers = count_parent_layers(parent, from);
    sources = child_layer_sources(how.kind, layers.main, how.layers);
    layer_sources = sources;
    for (std::uint64_t block = 0; block < layers.mtp; ++block)
      layer_sources.push_back(layers.main + block);
  }
  expert_sources experts;
  if (edits_experts(how.kind))
    experts = child_expert_sources(how, routed_expert_counts(parent, from));
  std::vector<child_tensor> planned;
  derivation_record record;
  if (how.kind == derivation_kind::upcycle) {
    auto upcycled = plan_upcycle(parent, how, strength);
    planned = std::move(upcycled.tensors);
    record = std::move(upcycled.record);
  } else {
    planned = plan_tensors(parent, how, layer_sources, experts);
    if (disguises(how.kind)) record = plan_disguise(parent, how, strength, planned);
  }
  const auto injections = checked_injections(how, planned, from);

  std::vector<output_tensor> tensors;
  tensors.reserve(planned.size());
  for (const auto& tensor : planned) tensors.push_back(tensor.target);

  child_value_writer writer(parent, how, strength);
  const tensor_filler fill = [&](std::size_t index, std::span<std::byte> bytes) {
    writer.fill(planned[index], bytes);
    if (const auto injected = injections.find(tensors[index].name); injected != injections.end())
      inject_nonfinite(bytes, tensors[index].type, injected->second);
  };
  const std::uint32_t shards = how.shards.value_or(parent.file_count);
  return write_model_directory(
      out, derived_config(parent, from, how, strength, sources, experts, record), tensors, shards,
      fill, child_tokenizer(parent, from, how, record));
}

}  // namespace lineage::synth
