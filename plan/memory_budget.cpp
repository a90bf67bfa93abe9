#include "plan/memory_budget.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"
#include "core/resource_usage.hpp"
#include "shard/kernel.hpp"

namespace lineage {
namespace {

constexpr std::uint64_t float_bytes = 4, double_bytes = 8;
constexpr std::uint64_t mib = std::uint64_t{1} << 20;

std::string mebibytes(std::uint64_t bytes) { return fmt::format("{:.0f} MiB", static_cast<double>(bytes) / mib); }

const std::string& pair_name(const work_plan& plan, std::uint32_t pair) { return plan.pairs.at(pair).a.name; }

// What a null reads resident of one side of `elements` elements of `size` bytes: the charged
// mapped bytes (whole without a window) and the decoded floats (whole within the limit, else a row).
std::uint64_t null_side(std::uint64_t elements, std::uint64_t size, std::uint64_t row_length,
                        const read_settings& reading) {
  const std::uint64_t window = reading.window_bytes;
  const std::uint64_t limit = window != 0 ? window : largest_window;
  const std::uint64_t mapped = reading.method == read_method::read ? row_length * size
                               : window != 0                        ? std::min(window, elements * size)
                                                                    : elements * size;
  const std::uint64_t floats = elements * float_bytes <= limit ? elements * float_bytes : row_length * float_bytes;
  return mapped + floats;
}

}  // namespace

std::uint64_t null_fixed_bytes(const null_request& request) {
  const std::uint64_t length = std::max<std::uint64_t>(1, request.row_length);
  const std::uint64_t units = std::max<std::uint64_t>(1, request.units()), k = request.permutations;
  // Per-unit arrays (tested indices, slice norms, a batch of eight draws), norm weights, B's
  // gathered rows, the chunk buffers of the column paths and the K draws of T (and of the
  // direction statistic).
  std::uint64_t bytes = units * (2 * 4 + 2 * double_bytes + 8 * 4) + 6 * length * float_bytes + 4 * mib +
                        2 * 64 * length * float_bytes + 2 * k * double_bytes;
  if (request.rotate != 0) {
    // B decoded whole and turned into A's frame (F32), the map, and A read whole for the moments.
    bytes += (request.elements_b() + 2 * request.elements_a()) * float_bytes +
             request.elements_a() * dtype_size(request.a.type);
  }
  if (request.from_products) {
    // Two double entries per cross product, and the gathered slices of a cell (all units at worst)
    // on both sides: whole rows (and a folded copy) on axis 0, a chunk of 64 rows on axis 1.
    const std::uint64_t slice = request.axis == 0 ? 3 * length : 2 * 64 * request.inner;
    bytes += 2 * product_entries(request) * double_bytes + request.tested_units() * slice * float_bytes;
  } else if (request.group.kind == symmetry_group::form::cyclic) {
    // Every shift at once (shard/null_cyclic.cpp): batches of lines and their spectra, at most
    // cyclic_batch_bytes_rows, the two sums of spectra and the inverse slice norms.
    bytes += cyclic_batch_bytes_rows + 2 * units * 2 * double_bytes + 2 * units * double_bytes;
  } else if (request.axis == 1) {
    // The column path keeps every draw: K + 1 offsets and partial dots per unit, K permutations.
    bytes += (k + 1) * units * (8 + double_bytes) + k * units * 4;
  }
  return bytes;
}

namespace {

// The resident need of each kind of unit (besides blocks and nulls, which depend on the reading).
std::uint64_t unit_bytes(const cross_layer_request& request) {
  return request.sample_elements() * (request.layers_a.size() + request.layers_b.size()) * (float_bytes + double_bytes);
}

std::uint64_t unit_bytes(const expert_match_request& request) {
  return request.sample_elements() * (request.experts_a.size() + request.experts_b.size()) * float_bytes +
         request.experts_a.size() * request.experts_b.size() * 3 * double_bytes;
}

std::uint64_t unit_bytes(const neuron_match_request& request) {
  // The compared columns of both sides (A's down_proj read whole, then its sample picked out).
  const std::uint64_t rows = request.matched(),
                      vectors = (3 * (rows + request.neurons_b) + 2 * request.neurons_a) * request.column_count;
  if (request.sparse()) {
    // The compared columns, one role's coarse copies, a block of 64 coarse rows, the candidates'
    // three exact scores and the three assignment graphs.
    const std::uint64_t edges = rows * 3 * request.candidates;
    return vectors * float_bytes + (rows + request.neurons_b) * request.coarse_columns * float_bytes +
           64 * request.neurons_b * double_bytes + edges * (3 * double_bytes + 3 * (double_bytes + 4));
  }
  const std::uint64_t larger = std::max(rows, request.neurons_b);
  return vectors * float_bytes + 3 * rows * request.neurons_b * double_bytes + larger * larger * double_bytes;
}

std::uint64_t unit_bytes(const hidden_match_request& request) {
  const std::uint64_t rows = request.row_count * (request.hidden + request.hidden_b) * float_bytes;
  const std::uint64_t square = request.hidden * request.hidden_b;
  // The matching: the compared rows as column vectors and three similarity matrices. Then, for
  // equal widths, Procrustes (shard/hidden_rotation.cpp) while two of those matrices live on: the
  // rows as floats again, two cross products in double, the single-precision SVD and the estimate.
  const std::uint64_t matching = rows + 3 * square * double_bytes;
  const std::uint64_t rotation =
      request.hidden == request.hidden_b ? 2 * square * double_bytes + rows + 2 * square * double_bytes +
                                               6 * square * float_bytes
                                         : 0;
  return std::max(matching, rotation);
}

std::uint64_t unit_bytes(const head_match_request& request) {
  const std::uint64_t rows = 2 * (request.heads + request.kv_heads) * request.head_dim;
  return 2 * rows * request.column_count * float_bytes +
         3 * (request.heads * request.heads + request.kv_heads * request.kv_heads) * double_bytes;
}

// A fingerprint decodes 4 MiB of rows at a time, or holds the side's floats when they fit
// fingerprint_held_floats, and keeps an FP64 Krylov basis and its products of its row length
// (block Lanczos, two float blocks of eight columns beside them) or a Gram matrix of the exact
// width.
std::uint64_t unit_bytes(const fingerprint_request& request) {
  std::uint64_t bytes = 0;
  for (const fingerprint_side* side : {&request.a, &request.b}) {
    const std::uint64_t length = side->shape.empty() ? 0 : side->shape.back();
    const std::uint64_t elements = side->shape.size() == 2 ? side->shape[0] * length : length;
    const std::uint64_t held = elements <= fingerprint_held_floats ? elements * float_bytes : 0;
    bytes = std::max(bytes, 2 * 4 * mib + held + 2 * length * fingerprint_passes * kernel_lanes * double_bytes +
                                2 * length * kernel_lanes * float_bytes +
                                3 * fingerprint_exact_width * fingerprint_exact_width * double_bytes);
  }
  return bytes;
}

// A content unit maps the range it hashes (at most a block's elements); a file's SHA-256 streams
// it through a small buffer.
std::uint64_t unit_bytes(const content_unit& unit) { return unit.whole_file ? 4 * mib : unit.bytes; }

// Every unit of one kind: `name(request)` says which, unit_bytes(request) what it holds.
template <class Request, class Name>
void add_units(std::vector<unit_memory>& units, const std::vector<Request>& requests,
               const std::vector<std::uint32_t>& ranks, Name name) {
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const std::uint64_t bytes = unit_bytes(requests[i]);
    units.push_back({ranks.at(i), name(requests[i]), bytes, bytes});
  }
}

}  // namespace

std::vector<unit_memory> memory_by_unit(const work_plan& plan, const read_settings& reading) {
  std::vector<unit_memory> units;
  // A block holds its bytes of A and of B, and B's gathered copy when B is aligned (plus B's rows
  // it gathers from, as many bytes again).
  for (std::uint32_t r = 0; r + 1 < plan.rank_first_block.size(); ++r)
    for (auto i = plan.rank_first_block[r]; i < plan.rank_first_block[r + 1]; ++i) {
      const work_block& block = plan.blocks.at(i);
      const std::uint64_t a = block.elements * dtype_size(block.a.type), b = block.elements * dtype_size(block.b.type);
      const std::uint64_t bytes = block.alignment >= 0 ? a + 3 * b : a + b;
      units.push_back({r, fmt::format("block of '{}'", pair_name(plan, block.pair)), bytes, bytes});
    }
  for (std::size_t i = 0; i < plan.nulls.size(); ++i) {
    const null_request& request = plan.nulls[i];
    const std::uint64_t length = std::max<std::uint64_t>(1, request.row_length), fixed = null_fixed_bytes(request);
    units.push_back({plan.null_rank.at(i), fmt::format("permutation null of '{}'", pair_name(plan, request.pair)), fixed,
                     fixed + null_side(request.elements_a(), dtype_size(request.a.type), length, reading) +
                         null_side(request.elements_b(), dtype_size(request.b.type), length, reading)});
  }
  add_units(units, plan.cross_layers, plan.cross_layer_rank,
            [](const auto& r) { return fmt::format("cross-layer unit of '{}'", r.role); });
  add_units(units, plan.expert_matches, plan.expert_match_rank,
            [](const auto& r) { return fmt::format("expert matching of layer {}", r.layer); });
  add_units(units, plan.neuron_matches, plan.neuron_match_rank,
            [](const auto& r) { return fmt::format("neuron matching of layer {} {}", r.layer, r.group); });
  // Every rank computes each hidden unit with the others (shard/hidden_match.hpp), each holding the
  // compared rows and the similarities; the lead's cross products are the bound of all of them.
  for (const hidden_match_request& request : plan.hidden_matches) {
    const std::uint64_t bytes = unit_bytes(request);
    for (int r = 0; r < plan.ranks(); ++r)
      units.push_back({static_cast<std::uint32_t>(r), fmt::format("hidden-dimension matching on '{}'", request.role),
                       bytes, bytes});
  }
  add_units(units, plan.head_matches, plan.head_match_rank,
            [](const auto& r) { return fmt::format("head matching of layer {}", r.layer); });
  add_units(units, plan.fingerprints, plan.fingerprint_rank,
            [](const auto& r) { return fmt::format("fingerprint of layer {} '{}'", r.layer, r.role); });
  add_units(units, plan.content.units, plan.content.unit_rank, [](const content_unit& u) {
    return fmt::format("{} of model {}", u.whole_file ? "SHA-256 of a file" : "content hash of a range",
                       u.side == 0 ? 'A' : 'B');
  });
  return units;
}

unit_memory largest_memory_need(const work_plan& plan) {
  unit_memory largest;
  for (unit_memory& unit : memory_by_unit(plan, {}))
    if (unit.fixed > largest.fixed) largest = std::move(unit);
  return largest;
}

std::uint64_t draws_reserve(const work_plan& plan) noexcept {
  // Rank 0 keeps every null's draws (T, and the direction statistic of slices) from the results
  // until the report is written, and copies them on the way: the received archive, the figures,
  // the null's means, the unit's test, the report's tables and HDF5's write buffers. Measured on
  // the default synth pair with --permutations-vector 3000000 (13 arrays of 3e6 draws): rank 0
  // peaked 4.31 GB above a run with 200 draws, 14 doubles per draw of each array; counted as 16.
  std::uint64_t draws = 0;
  for (const null_request& request : plan.nulls)
    draws += (request.slice_elements() > 1 ? 2 : 1) * std::uint64_t{request.permutations};
  for (const expert_match_request& request : plan.expert_matches) draws += request.permutations;
  return 16 * draws * double_bytes;
}

std::uint64_t memory_reserve(const work_plan& plan) noexcept {
  // Each tensor pair's results, figures and report rows are a few KiB; every rank holds the plan's
  // hidden map.
  return 32 * mib + (plan.pairs.size() + plan.unpaired.size()) * 8 * 1024 +
         plan.hidden_rotation.size() * float_bytes + draws_reserve(plan);
}

namespace {

void check_draws_fit(const work_plan& plan, std::uint64_t budget) {
  const std::uint64_t draws = draws_reserve(plan);
  const std::uint64_t memory = budget != 0 ? budget : physical_memory_bytes();
  if (memory == 0 || draws <= memory) return;
  throw usage_error(fmt::format(
      "permutations (--permutations-vector, --permutations-matrix, --permutations-products, "
      "--permutations-experts): the draws of this plan's {} nulls need {} on rank 0, more than {} ({}); "
      "ask for fewer permutations",
      plan.nulls.size() + plan.expert_matches.size(), mebibytes(draws), mebibytes(memory),
      budget != 0 ? "the memory budget" : "this machine's memory"));
}

}  // namespace

read_settings reading_within_budget(const work_plan& plan, std::uint64_t budget, read_method method,
                                    std::uint64_t resident) {
  read_settings settings;
  settings.method = method;
  check_draws_fit(plan, budget);
  if (budget == 0) return settings;
  const unit_memory unit = largest_memory_need(plan);
  const std::uint64_t reserve = memory_reserve(plan);
  const std::uint64_t fixed = resident + reserve + unit.fixed;
  const std::uint64_t needed = fixed + 4 * smallest_window;
  if (budget < needed)
    throw usage_error(fmt::format(
        "memory_budget (--memory-budget) {}: too small for this comparison: a rank holds {} before its first "
        "unit, {} in reserve for results and the report, and its largest unit ({}) needs {} more, and read windows "
        "{} more; a budget of at least {} will do",
        mebibytes(budget), mebibytes(resident), mebibytes(reserve), unit.unit, mebibytes(unit.fixed),
        mebibytes(4 * smallest_window), mebibytes(needed + mib - 1)));
  settings.window_bytes = std::clamp((budget - fixed) / 4, smallest_window, largest_window);
  return settings;
}

}  // namespace lineage
