#include "registry/fingerprint_build.hpp"

#include <fmt/format.h>

#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <map>
#include <span>

#include "arch/architecture_map.hpp"
#include "checkpoint/mapped_file.hpp"
#include "core/content_hash.hpp"
#include "core/error.hpp"
#include "core/version.hpp"
#include "shard/decode.hpp"

namespace lineage {
namespace {

using row_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr std::string_view attention_roles[] = {"self_attn.q_proj.weight", "self_attn.k_proj.weight",
                                                "self_attn.v_proj.weight"};
constexpr std::string_view norm_role = "input_layernorm.weight";

std::uint64_t columns_of(const checkpoint_tensor& t) { return t.shape.size() == 2 ? t.shape[1] : 1; }

// Rows [first, first + count) of a tensor's part, decoded to float.
std::vector<float> read_rows(const checkpoint& model, const tensor_rows& where, std::uint64_t first,
                             std::uint64_t count) {
  const checkpoint_tensor& t = model.tensors[where.tensor];
  const std::uint64_t columns = columns_of(t), size = dtype_size(t.type);
  const std::uint64_t offset = t.byte_offset + (where.row_begin + first) * columns * size;
  std::vector<std::byte> bytes(static_cast<std::size_t>(count * columns * size));
  read_only_file(model.files[t.file_index].path).read_exact(offset, bytes);
  std::vector<float> values(static_cast<std::size_t>(count * columns));
  if (!decode_to_float(bytes.data(), t.type, values.size(), values.data()))
    throw input_error(fmt::format("{}: tensor {} holds NaN or Inf", model.root.string(), t.name));
  return values;
}

std::vector<float> read_part(const checkpoint& model, const tensor_rows& where) {
  return read_rows(model, where, 0, where.row_end - where.row_begin);
}

// (prefix + role, layer) → the tensor part that holds it, for the roles the sketches read.
using role_map = std::map<std::pair<std::string, std::int64_t>, tensor_rows>;

role_map roles_of(const checkpoint& model, const std::optional<std::filesystem::path>& rules_dir) {
  const architecture_registry registry = architecture_registry::load(rules_dir);
  const architecture* arch = registry.find(model.model_type);
  role_map roles;
  for (std::size_t i = 0; i < model.tensors.size(); ++i) {
    const checkpoint_tensor& t = model.tensors[i];
    const auto views = arch ? arch->map(t.name, t.shape, model.config)
                            : std::vector<tensor_view>{map_generic(t.name, t.shape)};
    for (const tensor_view& view : views)
      if (view.key.expert < 0) roles[{view.key.role, view.key.layer}] = {i, view.row_begin, view.row_end};
  }
  return roles;
}

std::uint64_t config_count(const nlohmann::json& config, const char* key, std::uint64_t fallback) {
  const auto found = config.find(key);
  return found != config.end() && found->is_number_unsigned() ? found->get<std::uint64_t>() : fallback;
}

std::uint64_t rows_of(const tensor_rows& r) { return r.row_end - r.row_begin; }

// The attention layers whose q, k, v shapes fit the config's head counts.
std::vector<attention_source> attention_layers(const checkpoint& model, const role_map& roles, std::uint64_t hidden) {
  const std::uint64_t heads = config_count(model.config, "num_attention_heads", 0);
  const std::uint64_t kv_heads = config_count(model.config, "num_key_value_heads", heads);
  std::vector<attention_source> layers;
  if (heads == 0 || kv_heads == 0 || heads % kv_heads != 0) return layers;
  for (const auto& [where, q] : roles) {
    const auto& [role, layer] = where;
    if (layer < 0 || !role.ends_with(attention_roles[0])) continue;
    const std::string prefix = role.substr(0, role.size() - attention_roles[0].size());
    const auto k = roles.find({prefix + std::string(attention_roles[1]), layer});
    const auto v = roles.find({prefix + std::string(attention_roles[2]), layer});
    if (k == roles.end() || v == roles.end()) continue;
    attention_source s{fmt::format("{}layer {}", prefix, layer), layer, q, k->second, v->second, std::nullopt,
                       heads, kv_heads, rows_of(q) / heads};
    const auto fits = [&](const tensor_rows& r, std::uint64_t count) {
      return columns_of(model.tensors[r.tensor]) == hidden && rows_of(r) == count * s.head_dim;
    };
    if (s.head_dim == 0 || !fits(q, heads) || !fits(k->second, kv_heads) || !fits(v->second, kv_heads)) continue;
    const auto norm = roles.find({prefix + std::string(norm_role), layer});
    if (norm != roles.end() && model.tensors[norm->second.tensor].element_count == hidden) s.norm = norm->second;
    layers.push_back(std::move(s));
  }
  return layers;
}

std::uint64_t vocabulary_size_of(const nlohmann::json& config, std::uint64_t rows) {
  return config_count(config, "vocab_size", rows);
}

}  // namespace

index_source open_index_source(const std::filesystem::path& path, const index_options& options) {
  index_source source;
  source.model = open_checkpoint(path);
  const checkpoint& model = source.model;
  std::filesystem::path name = path;
  if (!name.has_filename()) name = name.parent_path();
  source.name = name.filename().string();
  const role_map roles = roles_of(model, options.rules_dir);
  auto embedding = roles.find({"embed_tokens.weight", -1});
  if (embedding == roles.end()) embedding = roles.find({"lm_head.weight", -1});
  if (embedding == roles.end() || model.tensors[embedding->second.tensor].shape.size() != 2)
    throw input_error(fmt::format("{}: no token embedding (embed_tokens or lm_head, a matrix) to key the sketches by",
                                  path.string()));
  source.embedding = embedding->second;
  const std::uint64_t vocab_rows = rows_of(source.embedding);
  source.hidden = columns_of(model.tensors[source.embedding.tensor]);
  if (vocab_rows == 0 || source.hidden == 0)
    throw input_error(fmt::format("{}: tensor {} is empty", path.string(), model.tensors[source.embedding.tensor].name));
  const std::filesystem::path directory = std::filesystem::is_directory(path) ? path : path.parent_path();
  if (std::filesystem::exists(directory / "tokenizer.json")) {
    const tokenizer_vocabulary vocabulary = read_tokenizer(directory);
    source.token_keys = "bytes";
    source.vocabulary_size = vocabulary.tokens.size();
    source.tokens = sampled_tokens(vocabulary, vocab_rows, options.rows);
  } else {
    source.token_keys = "ids";
    source.vocabulary_size = vocabulary_size_of(model.config, vocab_rows);
    source.tokens = sampled_ids(vocab_rows, options.rows);
  }
  source.layers = attention_layers(model, roles, source.hidden);
  std::uint64_t bytes = 0, attention_rows = 0;
  for (const checkpoint_file& file : model.files) bytes += file.size;
  for (const attention_source& layer : source.layers) attention_rows += rows_of(layer.q) + rows_of(layer.k) + rows_of(layer.v);
  const std::size_t frame =
      options.frame > 0 ? options.frame : auto_frame(bytes, source.tokens.size() * source.hidden, attention_rows);
  source.frame = std::min(frame, source.tokens.size());
  return source;
}

std::size_t auto_frame(std::uint64_t checkpoint_bytes, std::uint64_t token_values, std::uint64_t attention_rows) {
  constexpr std::uint64_t most = 64, least = 16, value_bytes = 4;
  const std::uint64_t budget = checkpoint_bytes / 1000, fixed = token_values * value_bytes;
  if (attention_rows == 0 || budget <= fixed) return least;
  return static_cast<std::size_t>(std::clamp((budget - fixed) / (attention_rows * value_bytes), least, most));
}

std::vector<float> token_rows(const index_source& source) {
  const std::size_t hidden = static_cast<std::size_t>(source.hidden);
  std::vector<float> rows(source.tokens.size() * hidden);
  for (std::size_t i = 0; i < source.tokens.size(); ++i) {
    const std::vector<float> row = read_rows(source.model, source.embedding, source.tokens[i].id, 1);
    std::copy(row.begin(), row.end(), rows.begin() + static_cast<std::ptrdiff_t>(i * hidden));
  }
  return rows;
}

attention_sketch sketch_layer(const index_source& source, const std::vector<float>& rows, std::size_t index) {
  const attention_source& layer = source.layers[index];
  const auto hidden = static_cast<Eigen::Index>(source.hidden), frame = static_cast<Eigen::Index>(source.frame);
  // The frame read through the layer's input norm: G = E_frame · diag(g).
  row_matrix g_frame = Eigen::Map<const row_matrix>(rows.data(), frame, hidden);
  if (layer.norm) {
    const std::vector<float> g = read_part(source.model, *layer.norm);
    g_frame *= Eigen::Map<const Eigen::VectorXf>(g.data(), hidden).asDiagonal();
  }
  const auto in_frame = [&](const tensor_rows& where) {
    const std::vector<float> w = read_part(source.model, where);
    const Eigen::Map<const row_matrix> matrix(w.data(), static_cast<Eigen::Index>(rows_of(where)), hidden);
    const row_matrix product = matrix * g_frame.transpose();
    return std::vector<float>(product.data(), product.data() + product.size());
  };
  attention_sketch sketch{layer.label, layer.layer, layer.heads, layer.kv_heads, layer.head_dim, {}, {}, {}};
  sketch.q = in_frame(layer.q);
  sketch.k = in_frame(layer.k);
  sketch.v = in_frame(layer.v);
  return sketch;
}

fingerprint_file_digest digest_file(const index_source& source, std::size_t file) {
  const checkpoint_file& f = source.model.files[file];
  const std::filesystem::path root =
      std::filesystem::is_directory(source.model.root) ? source.model.root : source.model.root.parent_path();
  return {std::filesystem::relative(f.path, root).generic_string(), f.size, sha256_file(f.path)};
}

model_fingerprint assemble_fingerprint(const index_source& source, std::vector<float> rows,
                                       std::vector<fingerprint_file_digest> files,
                                       std::vector<attention_sketch> layers) {
  model_fingerprint f;
  f.name = source.name;
  f.model_type = source.model.model_type;
  f.config_json = source.model.config.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  f.tool_version = std::string(tool_version());
  f.token_keys = source.token_keys;
  f.vocabulary_size = source.vocabulary_size;
  for (const checkpoint_file& file : source.model.files) f.checkpoint_bytes += file.size;
  for (const checkpoint_tensor& t : source.model.tensors) f.parameters += t.element_count;
  f.files = std::move(files);
  f.hidden = source.hidden;
  for (const keyed_token& token : source.tokens) f.row_keys.push_back(token.key);
  f.rows = std::move(rows);
  f.frame = source.frame;
  f.layers = std::move(layers);
  return f;
}

model_fingerprint fingerprint_in_process(const std::filesystem::path& model, const index_options& options) {
  const index_source source = open_index_source(model, options);
  std::vector<float> rows = token_rows(source);
  std::vector<fingerprint_file_digest> files;
  for (std::size_t i = 0; i < source.model.files.size(); ++i) files.push_back(digest_file(source, i));
  std::vector<attention_sketch> layers;
  for (std::size_t i = 0; i < source.layers.size(); ++i) layers.push_back(sketch_layer(source, rows, i));
  return assemble_fingerprint(source, std::move(rows), std::move(files), std::move(layers));
}

std::string checkpoint_digest(const std::vector<fingerprint_file_digest>& files) {
  std::string text;
  for (const auto& f : files) text += fmt::format("{} {} {}\n", f.sha256, f.size, f.path);
  return sha256_hex(std::as_bytes(std::span<const char>(text.data(), text.size())));
}

}  // namespace lineage
