#include "registry/fingerprint_h5.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>

#include "core/error.hpp"
#include "h5/h5_file.hpp"
#include "h5/h5_reader.hpp"
#include "h5/h5_seal.hpp"

namespace lineage {
namespace {

constexpr const char* format_name = "lineage-fingerprint";
// Bounds of a fingerprint's sizes: far above any model, and low enough that no product of two of
// them can overflow 64 bits.
constexpr std::uint64_t max_width = std::uint64_t{1} << 24, max_layers = std::uint64_t{1} << 16;

std::int64_t signed_of(std::uint64_t value) { return static_cast<std::int64_t>(value); }

void write_layers(h5_file& file, const std::vector<attention_sketch>& layers) {
  const h5_group group = file.create_group("layers");
  std::vector<std::string> labels;
  std::vector<std::int64_t> layer;
  std::vector<std::uint64_t> heads, kv_heads, head_dim;
  for (const attention_sketch& s : layers) {
    labels.push_back(s.label);
    layer.push_back(s.layer);
    heads.push_back(s.heads);
    kv_heads.push_back(s.kv_heads);
    head_dim.push_back(s.head_dim);
  }
  group.write_column("label", labels);
  group.write_column("layer", std::span<const std::int64_t>(layer));
  group.write_column("heads", std::span<const std::uint64_t>(heads));
  group.write_column("kv_heads", std::span<const std::uint64_t>(kv_heads));
  group.write_column("head_dim", std::span<const std::uint64_t>(head_dim));
  for (const char* role : {"q", "k", "v"}) {
    const h5_group projections = group.create_group(role);
    for (std::size_t i = 0; i < layers.size(); ++i) {
      const attention_sketch& s = layers[i];
      const std::vector<float>& values = role[0] == 'q' ? s.q : role[0] == 'k' ? s.k : s.v;
      projections.write_column(std::to_string(i), std::span<const float>(values));
    }
  }
}

}  // namespace

std::string fingerprint_image(const model_fingerprint& f, const std::string& label) {
  h5_file file = h5_file::create_in_memory(label, h5_seal_bytes);
  file.set_attribute("format", std::string(format_name));
  file.set_attribute("format_version", fingerprint_format_version);
  file.set_attribute("name", f.name);
  file.set_attribute("model_type", f.model_type);
  file.set_attribute("config_json", f.config_json);
  file.set_attribute("tool_version", f.tool_version);
  file.set_attribute("token_keys", f.token_keys);
  file.set_attribute("vocabulary_size", signed_of(f.vocabulary_size));
  file.set_attribute("checkpoint_bytes", signed_of(f.checkpoint_bytes));
  file.set_attribute("parameters", signed_of(f.parameters));
  file.set_attribute("hidden", signed_of(f.hidden));
  file.set_attribute("frame", signed_of(f.frame));
  write_file_digests(file.create_group("files"), f.files);
  const h5_group tokens = file.create_group("tokens");
  tokens.write_column("key", std::span<const std::uint64_t>(f.row_keys));
  tokens.write_column("rows", std::span<const float>(f.rows));
  write_layers(file, f.layers);
  std::string image = file.close_to_image();
  seal_h5_image(image);
  return image;
}

namespace {

struct checked_reader {
  const h5_reader& in;

  [[noreturn]] void fail(const std::string& object, const std::string& what) const {
    throw input_error(fmt::format("{}: {}: {}", in.label(), object, what));
  }
  std::uint64_t count(const std::string& name, std::uint64_t bound) const {
    const std::int64_t value = in.integer_attribute("/", name);
    if (value < 0 || static_cast<std::uint64_t>(value) > bound)
      fail("attribute " + name, fmt::format("{} is out of range [0, {}]", value, bound));
    return static_cast<std::uint64_t>(value);
  }
  std::vector<float> finite(const std::string& dataset, std::uint64_t expected) const {
    std::vector<float> values = in.floats(dataset);
    if (values.size() != expected) fail(dataset, fmt::format("holds {} values, expected {}", values.size(), expected));
    if (!std::all_of(values.begin(), values.end(), [](float x) { return std::isfinite(x); }))
      fail(dataset, "holds NaN or Inf");
    return values;
  }
};

void read_tokens(const checked_reader& r, model_fingerprint& f) {
  f.row_keys = r.in.unsigned_integers("/tokens/key");
  if (f.row_keys.size() > max_width) r.fail("/tokens/key", "too many tokens");
  if (std::adjacent_find(f.row_keys.begin(), f.row_keys.end(), std::greater_equal<>()) != f.row_keys.end())
    r.fail("/tokens/key", "keys are not strictly ascending");
  if (f.frame > f.row_keys.size()) r.fail("attribute frame", "larger than the sampled tokens");
  f.rows = r.finite("/tokens/rows", f.row_keys.size() * f.hidden);
}

void read_layers(const checked_reader& r, model_fingerprint& f) {
  const auto labels = r.in.strings("/layers/label");
  const auto layer = r.in.integers("/layers/layer");
  const auto heads = r.in.unsigned_integers("/layers/heads"), kv = r.in.unsigned_integers("/layers/kv_heads"),
             dim = r.in.unsigned_integers("/layers/head_dim");
  const std::size_t n = labels.size();
  if (n > max_layers || layer.size() != n || heads.size() != n || kv.size() != n || dim.size() != n)
    r.fail("/layers", "label, layer, heads, kv_heads and head_dim differ in length");
  for (std::size_t i = 0; i < n; ++i) {
    const std::string where = fmt::format("/layers (entry {})", i);
    if (heads[i] == 0 || kv[i] == 0 || dim[i] == 0 || heads[i] > max_width || dim[i] > max_width ||
        heads[i] % kv[i] != 0 || heads[i] * dim[i] > max_width)
      r.fail(where, fmt::format("heads {}, kv_heads {}, head_dim {} do not form a layout", heads[i], kv[i], dim[i]));
    attention_sketch s{labels[i], layer[i], heads[i], kv[i], dim[i], {}, {}, {}};
    const std::string index = std::to_string(i);
    s.q = r.finite("/layers/q/" + index, heads[i] * dim[i] * f.frame);
    s.k = r.finite("/layers/k/" + index, kv[i] * dim[i] * f.frame);
    s.v = r.finite("/layers/v/" + index, kv[i] * dim[i] * f.frame);
    f.layers.push_back(std::move(s));
  }
}

}  // namespace

namespace {

model_fingerprint read_from(const h5_reader& in) {
  const checked_reader r{in};
  if (!in.has_attribute("/", "format") || in.string_attribute("/", "format") != format_name)
    r.fail("attribute format", std::string("not a lineage fingerprint (expected \"") + format_name + "\")");
  const std::int64_t version = in.integer_attribute("/", "format_version");
  if (version != fingerprint_format_version)
    r.fail("attribute format_version", fmt::format("{} is not {}, the version this lineage reads", version,
                                                   fingerprint_format_version));
  model_fingerprint f;
  f.name = in.string_attribute("/", "name");
  f.model_type = in.string_attribute("/", "model_type");
  f.config_json = in.string_attribute("/", "config_json");
  f.tool_version = in.string_attribute("/", "tool_version");
  f.token_keys = in.string_attribute("/", "token_keys");
  if (f.token_keys != "bytes" && f.token_keys != "ids") r.fail("attribute token_keys", "neither \"bytes\" nor \"ids\"");
  f.vocabulary_size = r.count("vocabulary_size", std::numeric_limits<std::int64_t>::max());
  f.checkpoint_bytes = r.count("checkpoint_bytes", std::numeric_limits<std::int64_t>::max());
  f.parameters = r.count("parameters", std::numeric_limits<std::int64_t>::max());
  f.hidden = r.count("hidden", max_width);
  f.frame = r.count("frame", max_width);
  f.files = read_file_digests(in, "/files");
  read_tokens(r, f);
  read_layers(r, f);
  return f;
}

}  // namespace

void write_file_digests(const h5_group& group, const std::vector<fingerprint_file_digest>& files) {
  std::vector<std::string> paths, digests;
  std::vector<std::uint64_t> sizes;
  for (const auto& d : files) {
    paths.push_back(d.path);
    sizes.push_back(d.size);
    digests.push_back(d.sha256);
  }
  group.write_column("path", paths);
  group.write_column("size", std::span<const std::uint64_t>(sizes));
  group.write_column("sha256", digests);
}

std::vector<fingerprint_file_digest> read_file_digests(const h5_reader& in, const std::string& group) {
  const checked_reader r{in};
  const auto paths = in.strings(group + "/path"), digests = in.strings(group + "/sha256");
  const auto sizes = in.unsigned_integers(group + "/size");
  if (paths.size() != sizes.size() || paths.size() != digests.size())
    r.fail(group, "path, size and sha256 differ in length");
  std::vector<fingerprint_file_digest> files;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (digests[i].size() != 64 || !std::all_of(digests[i].begin(), digests[i].end(), [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        }))
      r.fail(group + "/sha256", fmt::format("entry {} is not 64 lower-case hex digits", i));
    files.push_back({paths[i], sizes[i], digests[i]});
  }
  return files;
}

model_fingerprint read_fingerprint(const std::filesystem::path& path) { return read_from(h5_reader::open(path)); }

model_fingerprint read_fingerprint_bytes(const std::string& file_bytes, const std::string& label) {
  return read_from(h5_reader::open_bytes(file_bytes, label));
}

}  // namespace lineage
