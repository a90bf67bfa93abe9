// permute-heads: the attention heads of every layer in a new order that grouped-query attention
// allows. Query head h reads KV head h / G (G = heads / kv_heads), so the KV heads may move only
// with their whole group of query heads; within a group the query heads move freely. Each head
// keeps its head_dim rows in order (RoPE and q/k norms act inside a head), and o_proj's columns
// follow the query heads.
#include <fmt/format.h>

#include <map>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "synth/disguise.hpp"
#include "synth/permutation_draw.hpp"
#include "synth/weight_names.hpp"

namespace lineage::synth {

namespace {

constexpr const char* option = "--kind permute-heads";

struct head_layout {
  std::uint64_t heads = 0, kv_heads = 0, head_dim = 0;
  [[nodiscard]] std::uint64_t group() const { return heads / kv_heads; }
};

std::uint64_t config_heads(const stored_model& parent, const char* key, std::uint64_t absent) {
  const auto found = parent.config.find(key);
  if (found == parent.config.end()) {
    if (absent > 0) return absent;
    throw usage_error(
        fmt::format("synth derive: {}: the parent's config.json has no {}", option, key));
  }
  if (!found->is_number_unsigned() || found->get<std::uint64_t>() == 0)
    throw usage_error(fmt::format("synth derive: {}: config.json {} {} is not a head count", option,
                                  key, found->dump()));
  return found->get<std::uint64_t>();
}

head_layout checked_layout(const stored_model& parent) {
  head_layout layout;
  layout.heads = config_heads(parent, "num_attention_heads", 0);
  layout.kv_heads = config_heads(parent, "num_key_value_heads", layout.heads);
  if (layout.heads % layout.kv_heads != 0)
    throw usage_error(fmt::format(
        "synth derive: {}: num_attention_heads {} is not a multiple of num_key_value_heads {}",
        option, layout.heads, layout.kv_heads));
  if (layout.heads == 1)
    throw usage_error(fmt::format(
        "synth derive: {}: the parent has one attention head, nothing to permute", option));
  return layout;
}

// The rows (o_proj: the columns) that hold one head per head_dim block.
std::uint64_t head_rows(const stored_tensor& tensor, weight_kind kind) {
  if (kind == weight_kind::o_proj) return tensor.shape.size() == 2 ? tensor.shape[1] : 0;
  return tensor.shape.empty() ? 0 : tensor.shape[0];
}

std::uint64_t heads_of(weight_kind kind, const head_layout& layout) {
  switch (kind) {
    case weight_kind::q_proj:
    case weight_kind::q_bias:
    case weight_kind::o_proj:
      return layout.heads;
    case weight_kind::k_proj:
    case weight_kind::k_bias:
    case weight_kind::v_proj:
    case weight_kind::v_bias:
      return layout.kv_heads;
    default:
      return 0;
  }
}

// head_dim from the first q_proj (and config.json's head_dim, when given); every projection of
// every layer must then hold its heads in blocks of head_dim.
void find_head_dim(const stored_model& parent, const std::vector<child_tensor>& planned,
                   head_layout& layout) {
  for (const auto& tensor : planned) {
    const auto& source = source_of(parent, tensor);
    if (classify_weight(source.name).kind != weight_kind::q_proj) continue;
    const std::uint64_t rows = head_rows(source, weight_kind::q_proj);
    if (rows % layout.heads != 0)
      throw usage_error(
          fmt::format("synth derive: {}: {} has {} rows, not a multiple of num_attention_heads {}",
                      option, source.name, rows, layout.heads));
    layout.head_dim = rows / layout.heads;
    break;
  }
  const auto configured = parent.config.find("head_dim");
  if (configured != parent.config.end() && *configured != layout.head_dim)
    throw usage_error(fmt::format(
        "synth derive: {}: config.json head_dim {} but q_proj holds {} heads of {} rows", option,
        configured->dump(), layout.heads, layout.head_dim));
  for (const auto& tensor : planned) {
    const auto& source = source_of(parent, tensor);
    const auto kind = classify_weight(source.name).kind;
    const std::uint64_t heads = heads_of(kind, layout);
    if (heads == 0) continue;
    if (layout.head_dim == 0 || head_rows(source, kind) != heads * layout.head_dim)
      throw usage_error(fmt::format("synth derive: {}: {} has {} {}, not {} heads of head_dim {}",
                                    option, source.name, head_rows(source, kind),
                                    kind == weight_kind::o_proj ? "columns" : "rows", heads,
                                    layout.head_dim));
  }
}

struct layer_heads {
  std::vector<std::uint64_t> kv, q;  // child head j = parent head [j]
};

layer_heads draw_heads(std::uint64_t seed, std::uint64_t layer, const head_layout& layout) {
  random_stream stream(seed, "derive permute-heads",
                       fmt::format("model.layers.{}.self_attn", layer));
  const std::uint64_t group = layout.group();
  layer_heads drawn;
  std::vector<std::uint32_t> kv(layout.kv_heads), within(group);
  bool identity = true;
  // Redrawn while the whole layer stays in place: a permuted child equal to its parent would test
  // nothing (likely for few heads: 1 in 8 for 4 heads on 2 KV heads).
  while (identity) {
    random_permutation(stream, kv);
    drawn.kv.assign(kv.begin(), kv.end());
    drawn.q.clear();
    for (std::uint64_t g = 0; g < layout.kv_heads; ++g) {
      random_permutation(stream, within);
      for (const std::uint32_t i : within) drawn.q.push_back(drawn.kv[g] * group + i);
    }
    identity = true;
    for (std::size_t h = 0; h < drawn.q.size(); ++h) identity = identity && drawn.q[h] == h;
  }
  return drawn;
}

}  // namespace

derivation_record plan_head_permutation(const stored_model& parent, const derivation& how,
                                        std::vector<child_tensor>& planned) {
  head_layout layout = checked_layout(parent);
  std::map<std::uint64_t, layer_heads> layers;
  for (const auto& tensor : planned) {
    const auto name = classify_weight(source_of(parent, tensor).name);
    if (name.kind == weight_kind::q_proj) layers.emplace(name.layer, layer_heads{});
  }
  if (layers.empty())
    throw usage_error(fmt::format(
        "synth derive: {}: the parent has no attention (no self_attn.q_proj.weight)", option));
  find_head_dim(parent, planned, layout);
  for (auto& [layer, heads] : layers) heads = draw_heads(how.seed, layer, layout);

  for (auto& tensor : planned) {
    const auto name = classify_weight(source_of(parent, tensor).name);
    const auto found = layers.find(name.layer);
    if (found == layers.end()) continue;
    const layer_heads& heads = found->second;
    switch (name.kind) {
      case weight_kind::q_proj:
      case weight_kind::q_bias:
        tensor.rows = expand_blocks(heads.q, layout.head_dim);
        break;
      case weight_kind::k_proj:
      case weight_kind::k_bias:
      case weight_kind::v_proj:
      case weight_kind::v_bias:
        tensor.rows = expand_blocks(heads.kv, layout.head_dim);
        break;
      case weight_kind::o_proj:
        tensor.columns = expand_blocks(heads.q, layout.head_dim);
        break;
      default:
        break;
    }
  }
  derivation_record record;
  nlohmann::json recorded = nlohmann::json::object();
  for (const auto& [layer, heads] : layers)
    recorded[std::to_string(layer)] = {{"kv", heads.kv}, {"q", heads.q}};
  record.provenance["head_permutation"] = recorded;  // child head j = parent head [j]
  return record;
}

}  // namespace lineage::synth
