// write_derived_model: a model made from a synth-written parent.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <vector>

#include "core/error.hpp"
#include "synth/derive_transforms.hpp"
#include "synth/layer_edit.hpp"
#include "synth/model_reader.hpp"
#include "synth/safetensors_writer.hpp"
#include "synth/synth.hpp"
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
    {derivation_kind::duplicate_layers, "duplicate-layers"}};

bool changes_values(derivation_kind kind) {
  return kind == derivation_kind::noise || kind == derivation_kind::drift;
}

// The scale the kind uses, after checking that the options fit the kind.
double checked_scale(const derivation& how) {
  const auto kind = derivation_kind_name(how.kind);
  if (how.kind == derivation_kind::dtype_change && !how.type)
    throw usage_error("synth derive: --kind dtype needs --dtype");
  if (how.kind == derivation_kind::reshard && !how.shards)
    throw usage_error("synth derive: --kind reshard needs --shards");
  if (edits_layers(how.kind) && how.layers.empty())
    throw usage_error(fmt::format("synth derive: --kind {} needs --layers", kind));
  if (!edits_layers(how.kind) && !how.layers.empty())
    throw usage_error(fmt::format("synth derive: --layers does not apply to --kind {}", kind));
  if (!changes_values(how.kind)) {
    if (how.scale)
      throw usage_error(fmt::format("synth derive: --scale does not apply to --kind {}", kind));
    return 0.0;
  }
  const double scale = how.scale.value_or(how.kind == derivation_kind::noise ? 0.01 : 0.05);
  if (!std::isfinite(scale) || scale < 0)
    throw usage_error(fmt::format("synth derive: --scale {} must be a finite number >= 0", scale));
  return scale;
}

void check_paths(const std::filesystem::path& from, const std::filesystem::path& out) {
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && std::filesystem::equivalent(from, out, ec))
    throw usage_error(
        fmt::format("synth derive: -o {} is the parent directory itself", out.string()));
}

// One tensor of the child and the parent tensor its values come from.
struct child_tensor {
  output_tensor target;
  std::size_t source = 0;  // index into stored_model::tensors
};

// The parent's decoder layer count, from its tensor names; config.json must agree.
std::uint64_t parent_layer_count(const stored_model& parent, const std::filesystem::path& from) {
  std::uint64_t count = 0;
  for (const auto& tensor : parent.tensors)
    if (const auto layer = decoder_layer_of(tensor.name)) count = std::max(count, *layer + 1);
  const auto configured = parent.config.find("num_hidden_layers");
  if (configured != parent.config.end() &&
      !(configured->is_number_unsigned() && configured->get<std::uint64_t>() == count))
    throw input_error(fmt::format(
        "{}: config.json num_hidden_layers {} but the tensors hold layers 0..{} ({} layers)",
        from.string(), configured->dump(), count == 0 ? 0 : count - 1, count));
  return count;
}

// The child's tensors, sorted by name. Without a depth edit they are the parent's, one for one;
// with one, each child layer L takes the tensors of parent layer sources[L], renamed.
std::vector<child_tensor> plan_tensors(const stored_model& parent,
                                         const std::vector<std::uint64_t>& sources,
                                         const derivation& how) {
  std::vector<child_tensor> planned;
  for (std::size_t index = 0; index < parent.tensors.size(); ++index) {
    const stored_tensor& stored = parent.tensors[index];
    const output_tensor same{stored.name, how.type.value_or(stored.type), stored.shape};
    const auto layer = decoder_layer_of(stored.name);
    if (!edits_layers(how.kind) || !layer) {
      planned.push_back({same, index});
      continue;
    }
    for (std::size_t child = 0; child < sources.size(); ++child) {
      if (sources[child] != *layer) continue;
      output_tensor renamed = same;
      renamed.name = with_decoder_layer(stored.name, child);
      planned.push_back({std::move(renamed), index});
    }
  }
  std::sort(planned.begin(), planned.end(), [](const child_tensor& x, const child_tensor& y) {
    return x.target.name < y.target.name;
  });
  return planned;
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

nlohmann::json derived_config(const stored_model& parent, const std::filesystem::path& from,
                              const derivation& how, double scale,
                              const std::vector<std::uint64_t>& sources) {
  nlohmann::json config = parent.config;
  if (how.type) config["torch_dtype"] = std::string(torch_dtype_name(*how.type));
  if (edits_layers(how.kind)) config["num_hidden_layers"] = sources.size();
  nlohmann::json provenance = {{"kind", std::string(derivation_kind_name(how.kind))},
                               {"parent_name", directory_name(from)},
                               {"parent", parent.config.value("lineage_synth", nlohmann::json())}};
  if (changes_values(how.kind)) {
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
  if (!how.injections.empty()) {
    nlohmann::json injected = nlohmann::json::object();
    for (const auto& injection : how.injections) injected[injection.tensor] = injection.count;
    provenance["nonfinite_injected"] = injected;
  }
  config["lineage_synth"] = provenance;
  return config;
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
  const double scale = checked_scale(how);
  check_paths(from, out);
  const stored_model parent = read_stored_model(from);
  std::vector<std::uint64_t> sources;
  if (edits_layers(how.kind))
    sources = child_layer_sources(how.kind, parent_layer_count(parent, from), how.layers);
  const std::vector<child_tensor> planned = plan_tensors(parent, sources, how);
  const auto injections = checked_injections(how, planned, from);

  std::vector<output_tensor> tensors;
  tensors.reserve(planned.size());
  for (const auto& tensor : planned) tensors.push_back(tensor.target);

  const std::string purpose = fmt::format("derive {}", derivation_kind_name(how.kind));
  std::vector<std::byte> parent_bytes;
  std::vector<float> values;
  const tensor_filler fill = [&](std::size_t index, std::span<std::byte> bytes) {
    const stored_tensor& source = parent.tensors[planned[index].source];
    const output_tensor& target = tensors[index];
    parent_bytes.resize(source.byte_length);
    read_tensor_bytes(source, parent_bytes);
    if (!changes_values(how.kind) && source.type == target.type) {
      // copy, reshard, drop-layers, duplicate-layers: the same bits
      std::memcpy(bytes.data(), parent_bytes.data(), bytes.size());
    } else {
      values.resize(source.element_count());
      decode_values(parent_bytes, source.type, values);
      random_stream stream(how.seed, purpose, source.name);
      if (how.kind == derivation_kind::noise) add_relative_noise(values, scale, stream);
      if (how.kind == derivation_kind::drift) apply_drift(values, source.shape, scale, stream);
      encode_values(values, target.type, bytes);
    }
    if (const auto injected = injections.find(target.name); injected != injections.end())
      inject_nonfinite(bytes, target.type, injected->second);
  };
  const std::uint32_t shards = how.shards.value_or(parent.file_count);
  return write_model_directory(out, derived_config(parent, from, how, scale, sources), tensors,
                               shards, fill);
}

}  // namespace lineage::synth
