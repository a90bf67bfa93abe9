// write_derived_model: a model made from a synth-written parent.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <vector>

#include "core/error.hpp"
#include "synth/derive_transforms.hpp"
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
    {derivation_kind::reshard, "reshard"}};

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

std::map<std::string, std::uint64_t> checked_injections(const derivation& how,
                                                        const stored_model& parent,
                                                        const std::filesystem::path& from) {
  std::map<std::string, std::uint64_t> counts;
  for (const auto& injection : how.injections) {
    const auto found =
        std::find_if(parent.tensors.begin(), parent.tensors.end(),
                     [&](const stored_tensor& t) { return t.name == injection.tensor; });
    if (found == parent.tensors.end())
      throw usage_error(fmt::format("synth derive: --inject-nonfinite: {} has no tensor {}",
                                    from.string(), injection.tensor));
    if (injection.count == 0 || injection.count > found->element_count())
      throw usage_error(fmt::format("synth derive: --inject-nonfinite {}:{}: count must be 1..{}",
                                    injection.tensor, injection.count, found->element_count()));
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
                              const derivation& how, double scale) {
  nlohmann::json config = parent.config;
  if (how.type) config["torch_dtype"] = std::string(torch_dtype_name(*how.type));
  nlohmann::json provenance = {{"kind", std::string(derivation_kind_name(how.kind))},
                               {"parent_name", directory_name(from)},
                               {"parent", parent.config.value("lineage_synth", nlohmann::json())}};
  if (changes_values(how.kind)) {
    provenance["seed"] = how.seed;
    provenance["scale"] = scale;
  }
  if (how.type) provenance["dtype"] = std::string(dtype_name(*how.type));
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
  const auto injections = checked_injections(how, parent, from);

  std::vector<output_tensor> tensors;
  tensors.reserve(parent.tensors.size());
  for (const auto& stored : parent.tensors)
    tensors.push_back({stored.name, how.type.value_or(stored.type), stored.shape});

  const std::string purpose = fmt::format("derive {}", derivation_kind_name(how.kind));
  std::vector<std::byte> parent_bytes;
  std::vector<float> values;
  const tensor_filler fill = [&](std::size_t index, std::span<std::byte> bytes) {
    const stored_tensor& source = parent.tensors[index];
    const output_tensor& target = tensors[index];
    parent_bytes.resize(source.byte_length);
    read_tensor_bytes(source, parent_bytes);
    if (!changes_values(how.kind) && source.type == target.type) {
      std::memcpy(bytes.data(), parent_bytes.data(), bytes.size());  // copy / reshard: same bits
    } else {
      values.resize(source.element_count());
      decode_values(parent_bytes, source.type, values);
      random_stream stream(how.seed, purpose, source.name);
      if (how.kind == derivation_kind::noise) add_relative_noise(values, scale, stream);
      if (how.kind == derivation_kind::drift) apply_drift(values, source.shape, scale, stream);
      encode_values(values, target.type, bytes);
    }
    if (const auto injected = injections.find(source.name); injected != injections.end())
      inject_nonfinite(bytes, target.type, injected->second);
  };
  const std::uint32_t shards = how.shards.value_or(parent.file_count);
  return write_model_directory(out, derived_config(parent, from, how, scale), tensors, shards,
                               fill);
}

}  // namespace lineage::synth
