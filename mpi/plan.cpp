#include "mpi/plan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "core/error.hpp"
#include "core/random_stream.hpp"

namespace lineage {

namespace {

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

// A mapped view with the tensor it comes from.
struct side_view {
  const checkpoint_tensor* tensor = nullptr;
  tensor_view view;
};

planned_tensor plan_side(const side_view& side) {
  const checkpoint_tensor& t = *side.tensor;
  planned_tensor p;
  p.name = side.view.label;
  p.type = t.type;
  p.file = t.file_index;
  p.shape = t.shape;
  if (side.view.whole(t.shape)) {
    p.byte_offset = t.byte_offset;
    p.elements = t.element_count;
    return p;
  }
  const std::uint64_t rows = t.shape.empty() ? 1 : t.shape[0];
  const std::uint64_t row_elements = rows == 0 ? 0 : t.element_count / rows;
  p.shape[0] = side.view.row_end - side.view.row_begin;
  p.byte_offset = t.byte_offset + side.view.row_begin * row_elements * dtype_size(t.type);
  p.elements = p.shape[0] * row_elements;
  return p;
}

// Maps every tensor of one side; keys claimed by more than one view are ambiguous.
std::map<tensor_key, std::vector<side_view>> map_side(const checkpoint& model, const architecture* arch) {
  std::map<tensor_key, std::vector<side_view>> by_key;
  for (const auto& tensor : model.tensors) {
    std::vector<tensor_view> views;
    if (arch != nullptr)
      views = arch->map(tensor.name, tensor.shape, model.config);
    else
      views.push_back(map_generic(tensor.name, tensor.shape));
    for (auto& view : views) by_key[view.key].push_back({&tensor, std::move(view)});
  }
  return by_key;
}

model_description describe(const checkpoint& model, const architecture* arch) {
  model_description d;
  d.path = model.root.string();
  d.model_type = model.model_type;
  d.architecture = arch != nullptr ? arch->name() : "generic";
  for (const auto& file : model.files) {
    d.files.push_back(file.path.string());
    d.file_sizes.push_back(file.size);
  }
  d.tensor_count = model.tensors.size();
  for (const auto& tensor : model.tensors) d.parameter_count += tensor.element_count;
  d.config_json = model.config.dump();
  return d;
}

unpaired_tensor unpaired(char side, const side_view& v, std::string reason) {
  return {side, v.view.label, v.view.key, v.tensor->type, plan_side(v).shape, std::move(reason)};
}

// rows × row_length of a planned tensor, as the nulls see it: rows of a matrix, elements of a vector.
std::pair<std::uint64_t, std::uint64_t> unit_shape(const planned_tensor& t) {
  const bool matrix = t.shape.size() >= 2 && t.shape[0] >= 2;
  return matrix ? std::pair{t.shape[0], t.elements / t.shape[0]} : std::pair{t.elements, std::uint64_t{1}};
}

// One null per pair with at least two units to permute.
void plan_nulls(work_plan& plan, const null_options& options) {
  const std::uint64_t job_seed = [&] {
    std::uint64_t state = options.seed;
    return splitmix64(state);
  }();
  for (std::size_t p = 0; p < plan.pairs.size(); ++p) {
    const auto& pair = plan.pairs[p];
    null_request request;
    request.pair = static_cast<std::uint32_t>(p);
    request.a = {pair.a.file, pair.a.byte_offset, pair.a.type};
    request.b = {pair.b.file, pair.b.byte_offset, pair.b.type};
    std::tie(request.rows, request.row_length) = unit_shape(pair.a);
    request.permutations = request.row_length > 1 ? options.permutations_matrix : options.permutations_vector;
    request.seed = job_seed ^ fnv1a_64(key_text(pair.key));
    if (request.rows < 2 || request.row_length == 0 || request.permutations == 0) continue;
    plan.nulls.push_back(request);
  }
}

using keyed_views = std::map<tensor_key, std::vector<side_view>>;

// One layer × layer unit per role that has one tensor per layer, the same shape everywhere and at
// least two layers on each side. Routed experts are left to expert matching.
void plan_cross_layers(work_plan& plan, const keyed_views& views_a, const keyed_views& views_b,
                       std::uint64_t seed) {
  struct role_layers {
    std::map<int, planned_tensor> a, b;
    bool usable = true;
  };
  std::map<std::string, role_layers> by_role;
  const auto collect = [&](const keyed_views& views, bool side_a) {
    for (const auto& [key, list] : views) {
      if (key.layer < 0 || key.expert >= 0) continue;
      auto& entry = by_role[key.role];
      if (list.size() != 1) {
        entry.usable = false;
        continue;
      }
      (side_a ? entry.a : entry.b)[key.layer] = plan_side(list.front());
    }
  };
  collect(views_a, true);
  collect(views_b, false);
  for (const auto& [role, entry] : by_role) {
    if (!entry.usable || entry.a.size() < 2 || entry.b.size() < 2) continue;
    const auto& shape = entry.a.begin()->second.shape;
    bool same_shape = true;
    for (const auto* side : {&entry.a, &entry.b})
      for (const auto& [layer, tensor] : *side) same_shape = same_shape && tensor.shape == shape;
    if (!same_shape || entry.a.begin()->second.elements == 0) continue;
    cross_layer_request request;
    request.role = role;
    for (const auto& [layer, tensor] : entry.a) {
      request.layers_a.push_back(layer);
      request.a.push_back({tensor.file, tensor.byte_offset, tensor.type});
    }
    for (const auto& [layer, tensor] : entry.b) {
      request.layers_b.push_back(layer);
      request.b.push_back({tensor.file, tensor.byte_offset, tensor.type});
    }
    std::tie(request.rows, request.row_length) = unit_shape(entry.a.begin()->second);
    const std::uint64_t wanted = std::max<std::uint64_t>(1, cross_layer_sample_elements / request.row_length);
    if (wanted >= request.rows) {
      for (std::uint64_t r = 0; r < request.rows; ++r) request.sampled_rows.push_back(static_cast<std::uint32_t>(r));
    } else {
      // The first `wanted` entries of a random permutation: a sample without replacement.
      std::vector<std::uint32_t> order(request.rows);
      random_stream stream(seed, "cross-layer rows", role);
      random_permutation(stream, order);
      request.sampled_rows.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(wanted));
      std::sort(request.sampled_rows.begin(), request.sampled_rows.end());
    }
    plan.cross_layers.push_back(std::move(request));
  }
}

}  // namespace

std::string key_text(const tensor_key& key) {
  std::string text = key.layer < 0 ? std::string("global") : fmt::format("layer {}", key.layer);
  text += " / " + key.role;
  if (key.expert >= 0) text += fmt::format(" / expert {}", key.expert);
  return text;
}

namespace {

// Greedy longest-processing-time dealing: deterministic for a given rank count.
std::vector<std::uint32_t> deal_by_cost(const std::vector<std::uint64_t>& costs, std::vector<std::uint64_t>& load) {
  std::vector<std::size_t> order(costs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return costs[x] > costs[y]; });
  std::vector<std::uint32_t> owner(costs.size(), 0);
  for (const std::size_t i : order) {
    const auto lightest = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    owner[i] = static_cast<std::uint32_t>(lightest);
    load[lightest] += costs[i];
  }
  return owner;
}

}  // namespace

void assign_units(work_plan& plan, int ranks) {
  if (ranks < 1) throw internal_error("assign_units: rank count must be positive");
  std::vector<std::uint64_t> load(static_cast<std::size_t>(ranks), 0);
  std::vector<std::uint64_t> costs;
  for (const auto& request : plan.nulls) costs.push_back(request.cost());
  plan.null_rank = deal_by_cost(costs, load);
  costs.clear();
  for (const auto& request : plan.cross_layers) costs.push_back(request.cost());
  plan.cross_layer_rank = deal_by_cost(costs, load);
}

work_plan make_plan(const checkpoint& a, const checkpoint& b, const architecture_registry& registry,
                    const plan_options& options) {
  if (options.block_elements == 0) throw usage_error("block_elements: must be at least 1");
  const architecture* arch_a = registry.find(a.model_type);
  const architecture* arch_b = registry.find(b.model_type);
  if (arch_a == nullptr || arch_b == nullptr) arch_a = arch_b = nullptr;

  work_plan plan;
  plan.block_elements = options.block_elements;
  plan.model_a = describe(a, arch_a);
  plan.model_b = describe(b, arch_b);
  const auto views_a = map_side(a, arch_a);
  const auto views_b = map_side(b, arch_b);

  for (const auto& [key, list_a] : views_a) {
    const auto found = views_b.find(key);
    if (list_a.size() > 1 || (found != views_b.end() && found->second.size() > 1)) {
      const std::size_t count_b = found == views_b.end() ? 0 : found->second.size();
      const auto reason = fmt::format("ambiguous key: {} tensors of model A and {} of model B map to it",
                                      list_a.size(), count_b);
      for (const auto& v : list_a) plan.unpaired.push_back(unpaired('a', v, reason));
      if (found != views_b.end())
        for (const auto& v : found->second) plan.unpaired.push_back(unpaired('b', v, reason));
      continue;
    }
    if (found == views_b.end()) {
      plan.unpaired.push_back(unpaired('a', list_a.front(), "no tensor with this key in model B"));
      continue;
    }
    const planned_tensor side_a = plan_side(list_a.front());
    const planned_tensor side_b = plan_side(found->second.front());
    if (side_a.shape != side_b.shape) {
      const auto reason = fmt::format("shape {} in model A but {} in model B", shape_text(side_a.shape),
                                      shape_text(side_b.shape));
      plan.unpaired.push_back(unpaired('a', list_a.front(), reason));
      plan.unpaired.push_back(unpaired('b', found->second.front(), reason));
      continue;
    }
    plan.pairs.push_back({key, side_a, side_b, 0, 0});
  }
  for (const auto& [key, list_b] : views_b)
    if (!views_a.contains(key))
      for (const auto& v : list_b)
        plan.unpaired.push_back(unpaired('b', v, "no tensor with this key in model A"));

  for (std::size_t p = 0; p < plan.pairs.size(); ++p) {
    auto& pair = plan.pairs[p];
    pair.first_block = plan.blocks.size();
    for (std::uint64_t first = 0; first < pair.a.elements; first += plan.block_elements) {
      const std::uint64_t count = std::min(plan.block_elements, pair.a.elements - first);
      work_block block;
      block.pair = static_cast<std::uint32_t>(p);
      block.first_element = first;
      block.elements = count;
      block.a = {pair.a.file, pair.a.byte_offset + first * dtype_size(pair.a.type), pair.a.type};
      block.b = {pair.b.file, pair.b.byte_offset + first * dtype_size(pair.b.type), pair.b.type};
      plan.blocks.push_back(block);
    }
    pair.block_count = plan.blocks.size() - pair.first_block;
  }
  plan_nulls(plan, options.nulls);
  plan_cross_layers(plan, views_a, views_b, options.nulls.seed);
  assign_blocks(plan, options.ranks);
  assign_units(plan, options.ranks);
  return plan;
}

// Products of byte offsets and rank counts can pass 2^64 for exabyte-scale inputs.
__extension__ using wide_unsigned = unsigned __int128;

void assign_blocks(work_plan& plan, int ranks) {
  if (ranks < 1) throw internal_error("assign_blocks: rank count must be positive");
  const std::uint64_t total = plan.total_bytes();
  plan.rank_first_block.assign(static_cast<std::size_t>(ranks) + 1, plan.blocks.size());
  plan.rank_first_block[0] = 0;
  // Block i goes to the rank whose share [r·T/R, (r+1)·T/R) holds the block's first byte.
  std::uint64_t offset = 0;
  int rank = 0;
  for (std::size_t i = 0; i < plan.blocks.size(); ++i) {
    while (rank + 1 < ranks &&
           static_cast<wide_unsigned>(offset) * static_cast<unsigned>(ranks) >=
               static_cast<wide_unsigned>(total) * static_cast<unsigned>(rank + 1)) {
      ++rank;
      plan.rank_first_block[static_cast<std::size_t>(rank)] = i;
    }
    const auto& block = plan.blocks[i];
    offset += block.elements * (dtype_size(block.a.type) + dtype_size(block.b.type));
  }
  for (int r = rank + 1; r < ranks; ++r) plan.rank_first_block[static_cast<std::size_t>(r)] = plan.blocks.size();
}

}  // namespace lineage
