#include "registry_test_support.hpp"

#include <numeric>
#include <vector>

#include "core/random_stream.hpp"

namespace lineage::testing {
namespace {

std::vector<float> gaussian(random_stream& stream, std::uint64_t count) {
  std::vector<float> values(static_cast<std::size_t>(count));
  for (float& x : values) x = static_cast<float>(stream.normal());
  return values;
}

void add_noise(std::vector<float>& values, random_stream& stream, double scale) {
  for (float& x : values) x += static_cast<float>(scale * stream.normal());
}

}  // namespace

model_fingerprint random_fingerprint(std::uint64_t seed, const sketch_shape& shape) {
  random_stream stream(seed, "registry test", "fingerprint");
  model_fingerprint f;
  f.name = "model-" + std::to_string(seed);
  f.model_type = "llama";
  f.config_json = "{}";
  f.tool_version = "test";
  f.token_keys = "bytes";
  f.vocabulary_size = shape.tokens;
  f.files.push_back({"model.safetensors", 1000 + seed, std::string(63, '0') + std::to_string(seed % 10)});
  f.hidden = shape.hidden;
  f.row_keys.resize(static_cast<std::size_t>(shape.tokens));
  std::iota(f.row_keys.begin(), f.row_keys.end(), std::uint64_t{1});
  f.rows = gaussian(stream, shape.tokens * shape.hidden);
  f.frame = shape.frame;
  for (std::uint64_t l = 0; l < shape.layers; ++l) {
    attention_sketch s{"layer " + std::to_string(l), static_cast<std::int64_t>(l), shape.heads, shape.kv_heads,
                       shape.head_dim, {}, {}, {}};
    s.q = gaussian(stream, shape.heads * shape.head_dim * shape.frame);
    s.k = gaussian(stream, shape.kv_heads * shape.head_dim * shape.frame);
    s.v = gaussian(stream, shape.kv_heads * shape.head_dim * shape.frame);
    f.layers.push_back(std::move(s));
  }
  return f;
}

model_fingerprint with_noise(model_fingerprint f, double scale, std::uint64_t seed) {
  random_stream stream(seed, "registry test", "noise");
  add_noise(f.rows, stream, scale);
  for (attention_sketch& s : f.layers)
    for (std::vector<float>* values : {&s.q, &s.k, &s.v}) add_noise(*values, stream, scale);
  f.files.front().sha256.back() = f.files.front().sha256.back() == 'f' ? 'e' : 'f';
  f.name += "-noise";
  return f;
}

model_fingerprint hidden_permuted(model_fingerprint f, std::uint64_t seed) {
  random_stream stream(seed, "registry test", "permutation");
  std::vector<std::uint32_t> order(static_cast<std::size_t>(f.hidden));
  random_permutation(stream, order);
  const std::vector<float> rows = f.rows;
  for (std::size_t t = 0; t < f.row_keys.size(); ++t)
    for (std::size_t i = 0; i < order.size(); ++i) f.rows[t * order.size() + i] = rows[t * order.size() + order[i]];
  f.files.front().sha256.back() = 'a';
  f.name += "-permuted";
  return f;
}

std::filesystem::path scratch_directory(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("lineage-registry-test-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace lineage::testing
