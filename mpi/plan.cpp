#include "mpi/plan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>

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
    const auto& shape = pair.a.shape;
    const bool matrix = shape.size() >= 2 && shape[0] >= 2;
    request.rows = matrix ? shape[0] : pair.a.elements;
    request.row_length = matrix ? pair.a.elements / shape[0] : 1;
    request.permutations = matrix ? options.permutations_matrix : options.permutations_vector;
    request.seed = job_seed ^ fnv1a_64(key_text(pair.key));
    if (request.rows < 2 || request.row_length == 0 || request.permutations == 0) continue;
    plan.nulls.push_back(request);
  }
}

}  // namespace

std::string key_text(const tensor_key& key) {
  std::string text = key.layer < 0 ? std::string("global") : fmt::format("layer {}", key.layer);
  text += " / " + key.role;
  if (key.expert >= 0) text += fmt::format(" / expert {}", key.expert);
  return text;
}

void assign_nulls(work_plan& plan, int ranks) {
  if (ranks < 1) throw internal_error("assign_nulls: rank count must be positive");
  std::vector<std::size_t> order(plan.nulls.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return plan.nulls[x].cost() > plan.nulls[y].cost();
  });
  std::vector<std::uint64_t> load(static_cast<std::size_t>(ranks), 0);
  plan.null_rank.assign(plan.nulls.size(), 0);
  for (const std::size_t i : order) {
    const auto lightest = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    plan.null_rank[i] = static_cast<std::uint32_t>(lightest);
    load[lightest] += plan.nulls[i].cost();
  }
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
  assign_blocks(plan, options.ranks);
  assign_nulls(plan, options.ranks);
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
