#include "plan/plan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "plan/plan_content.hpp"
#include "plan/plan_views.hpp"
#include "plan/time_estimate.hpp"

namespace lineage {

namespace {

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
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

// Blocks of at most block_elements over `elements` aligned elements from these byte offsets;
// `first_element` numbers them within the pair.
void add_blocks(work_plan& plan, std::uint32_t pair_index, std::uint64_t offset_a, std::uint64_t offset_b,
                std::uint64_t first_element, std::uint64_t elements) {
  const auto& pair = plan.pairs[pair_index];
  for (std::uint64_t first = 0; first < elements; first += plan.block_elements) {
    const std::uint64_t count = std::min(plan.block_elements, elements - first);
    work_block block;
    block.pair = pair_index;
    block.first_element = first_element + first;
    block.elements = count;
    block.a = {pair.a.file, offset_a + first * dtype_size(pair.a.type), pair.a.type};
    block.b = {pair.b.file, offset_b + first * dtype_size(pair.b.type), pair.b.type};
    block.alignment = pair.alignment;
    plan.blocks.push_back(block);
  }
}

// More blocks than this come from a header or shape list that lies about its shapes (or from a
// --block-elements far too small): 2^22 blocks of the default 2^22 elements are 1.8e13 elements,
// 35 TB of BF16 per model (the largest models have about 2e12), and the plan alone 0.3 GB.
constexpr std::uint64_t most_plan_blocks = std::uint64_t{1} << 22;

void check_block_count(const work_plan& plan) {
  std::uint64_t blocks = 0;
  const tensor_pair* largest = nullptr;
  for (const tensor_pair& pair : plan.pairs) {
    // Whole blocks, one more for a remainder, and one per run of explicit row pairs at most.
    const std::uint64_t count = pair.a.elements / plan.block_elements + 1 + pair.rows_a.size();
    blocks = count > most_plan_blocks ? most_plan_blocks + 1 : blocks + count;
    if (largest == nullptr || pair.a.elements > largest->a.elements) largest = &pair;
    if (blocks > most_plan_blocks)
      throw input_error(fmt::format(
          "the paired tensors would take more than {} blocks of {} elements (tensor '{}' alone has {} elements): "
          "a header or shape list that lies about its shapes, or a block_elements far too small",
          most_plan_blocks, plan.block_elements, largest->a.name, largest->a.elements));
  }
}

// Blocks over a pair's explicit row pairs: each run of pairs whose rows follow each other on both
// sides (a kept vocabulary, experts in place) is one stretch of contiguous bytes, cut as any tensor.
void add_row_pair_blocks(work_plan& plan, std::uint32_t pair_index) {
  const auto& pair = plan.pairs[pair_index];
  const std::uint64_t length = unit_shape(pair.a).second;
  for (std::size_t first = 0, last = 1; first < pair.rows_a.size(); first = last++) {
    while (last < pair.rows_a.size() && pair.rows_a[last] == pair.rows_a[last - 1] + 1 &&
           pair.rows_b[last] == pair.rows_b[last - 1] + 1)
      ++last;
    add_blocks(plan, pair_index, pair.a.byte_offset + pair.rows_a[first] * length * dtype_size(pair.a.type),
               pair.b.byte_offset + pair.rows_b[first] * length * dtype_size(pair.b.type), first * length,
               (last - first) * length);
  }
}

// A pair of other shapes the plan's hidden map (B's width differs) may read in A's frame; align_b
// keeps it only if its test comes after the hidden unit.
bool other_width_of_hidden_map(const work_plan& plan, const tensor_key& key, const planned_tensor& a,
                               const planned_tensor& b) {
  if (plan.hidden_rotation.empty() || plan.hidden_rotation_rows * plan.hidden_rotation_rows == plan.hidden_rotation.size())
    return false;
  tensor_pair pair;
  pair.key = key;
  pair.a = a;
  pair.b = b;
  return fits_hidden_map(plan, pair);
}

// Pairs the tensors of A and B that map to the same key; what cannot be paired (a key on one side
// only, ambiguous keys, shapes that differ) goes to plan.unpaired with the reason.
void pair_by_key(work_plan& plan, const keyed_views& views_a, const keyed_views& views_b,
                 const token_pairing* tokens, const expert_pairing& matched) {
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
    if (auto by_tokens = token_paired(tokens, key, side_a, side_b)) {
      plan.pairs.push_back(std::move(*by_tokens));
      continue;
    }
    if (side_a.shape != side_b.shape && !other_width_of_hidden_map(plan, key, side_a, side_b)) {
      const auto reason = fmt::format("shape {} in model A but {} in model B", shape_text(side_a.shape),
                                      shape_text(side_b.shape));
      plan.unpaired.push_back(unpaired('a', list_a.front(), reason));
      plan.unpaired.push_back(unpaired('b', found->second.front(), reason));
      continue;
    }
    tensor_pair pair;
    pair.key = key;
    pair.a = side_a;
    pair.b = side_b;
    if (const auto excluded = matched.excluded_rows.find({key.layer, key.role});
        key.expert >= 0 && excluded != matched.excluded_rows.end()) {
      std::tie(pair.exclude_begin, pair.exclude_end) = excluded->second;
      pair.pairing = "expert matching";
    }
    plan.pairs.push_back(std::move(pair));
  }
  for (const auto& [key, list_b] : views_b)
    if (!views_a.contains(key))
      for (const auto& v : list_b)
        plan.unpaired.push_back(unpaired('b', v, "no tensor with this key in model A"));
}

// Each pair's blocks, in pair order (a rotated pair has none: its null reads it).
void lay_out_blocks(work_plan& plan) {
  for (std::size_t p = 0; p < plan.pairs.size(); ++p) {
    auto& pair = plan.pairs[p];
    pair.first_block = plan.blocks.size();
    if (pair.rotated) {
      // B's bytes cannot be read in A's frame: the null turns them and sums the pair's moments.
    } else if (pair.rows_a.empty()) {
      add_blocks(plan, static_cast<std::uint32_t>(p), pair.a.byte_offset, pair.b.byte_offset, 0, pair.a.elements);
    } else {
      add_row_pair_blocks(plan, static_cast<std::uint32_t>(p));
    }
    pair.block_count = plan.blocks.size() - pair.first_block;
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

// Deals one kind's units to ranks by their estimated time (plan/time_estimate.hpp), on top of
// `load` (the units already dealt that run in the same phase).
template <class Request>
std::vector<std::uint32_t> deal(const std::vector<Request>& requests, std::vector<std::uint64_t>& load) {
  std::vector<std::uint64_t> costs;
  costs.reserve(requests.size());
  for (const auto& request : requests) costs.push_back(nanoseconds(unit_seconds(request)));
  return deal_by_cost(costs, load);
}

// The manifest's hashing units read bytes only: dealt by their bytes.
std::vector<std::uint32_t> deal(const std::vector<content_unit>& units, std::vector<std::uint64_t>& load) {
  std::vector<std::uint64_t> costs;
  costs.reserve(units.size());
  for (const auto& unit : units) costs.push_back(unit.bytes);
  return deal_by_cost(costs, load);
}

}  // namespace

void assign_units(work_plan& plan, int ranks) {
  if (ranks < 1) throw internal_error("assign_units: rank count must be positive");
  const auto fresh_load = [&] { return std::vector<std::uint64_t>(static_cast<std::size_t>(ranks), 0); };
  // The statistics phase: nulls, cross-layer, neuron-matching and fingerprint units share the load.
  auto load = fresh_load();
  plan.null_rank = deal(plan.nulls, load);
  plan.cross_layer_rank = deal(plan.cross_layers, load);
  plan.neuron_match_rank = deal(plan.neuron_matches, load);
  plan.fingerprint_rank = deal(plan.fingerprints, load);
  // The matching phases run before the blocks, each balanced on its own: experts and heads share
  // the second phase, the hidden dimensions have the first.
  auto matching_load = fresh_load();
  plan.expert_match_rank = deal(plan.expert_matches, matching_load);
  plan.head_match_rank = deal(plan.head_matches, matching_load);
  matching_load = fresh_load();
  plan.hidden_match_rank = deal(plan.hidden_matches, matching_load);
  // The manifest's hashing units, balanced by bytes on their own.
  auto byte_load = fresh_load();
  plan.content.unit_rank = deal(plan.content.units, byte_load);
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
  auto views_a = map_side(a, arch_a);
  auto views_b = map_side(b, arch_b);
  plan_hidden_matches(plan, views_a, views_b, options.nulls, options.hidden_matching, options.tokens);
  plan_expert_matches(plan, views_a, views_b, options.nulls);
  plan_head_matches(plan, views_a, views_b, options.nulls, options.head_matching);
  const expert_pairing matched = options.expert_matching != nullptr
                                     ? apply_expert_matching(plan, *options.expert_matching, views_a, views_b)
                                     : expert_pairing{};

  pair_by_key(plan, views_a, views_b, options.tokens, matched);
  assign_axes(plan, arch_a, arch_b, views_a, views_b);
  choose_tests(plan);
  align_b(plan);
  check_block_count(plan);
  lay_out_blocks(plan);
  plan_symmetry_nulls(plan, options.nulls, arch_a == nullptr || arch_a->rope());
  if (options.nulls.cross_layer) plan_cross_layers(plan, views_a, views_b, options.nulls.seed);
  // Neuron matching reads B through the hidden order, and runs with the blocks after both phases.
  if (!plan.awaits_matching()) plan_neuron_matches(plan, views_a, views_b, options.nulls);
  if (options.nulls.fingerprints) plan_fingerprints(plan, views_a, views_b, options.nulls);
  plan_content(plan, a, b, options.content);
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
