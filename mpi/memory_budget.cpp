#include "mpi/memory_budget.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"

namespace lineage {
namespace {

constexpr std::uint64_t float_bytes = 4, double_bytes = 8;
constexpr std::uint64_t mib = std::uint64_t{1} << 20;

std::string mebibytes(std::uint64_t bytes) { return fmt::format("{:.0f} MiB", static_cast<double>(bytes) / mib); }

class need_tracker {
 public:
  void offer(std::uint64_t bytes, const std::string& unit) {
    if (bytes > largest_.bytes) largest_ = {bytes, unit};
  }
  [[nodiscard]] const memory_need& largest() const noexcept { return largest_; }

 private:
  memory_need largest_;
};

const std::string& pair_name(const work_plan& plan, std::uint32_t pair) { return plan.pairs.at(pair).a.name; }

}  // namespace

memory_need largest_memory_need(const work_plan& plan) {
  need_tracker needs;
  // A block holds its bytes of A and of B, and B's gathered copy when B is aligned (plus B's rows
  // it gathers from, as many bytes again).
  for (const work_block& block : plan.blocks) {
    const std::uint64_t a = block.elements * dtype_size(block.a.type), b = block.elements * dtype_size(block.b.type);
    needs.offer(block.alignment >= 0 ? a + 3 * b : a + b, fmt::format("block of '{}'", pair_name(plan, block.pair)));
  }
  // A null's per-row arrays: the tested indices, the row norms of the direction statistic, a batch
  // of eight permutations; the norm weights; B's gathered row.
  for (const null_request& request : plan.nulls) {
    const std::uint64_t rows = std::max(request.elements_a(), request.elements_b()) / std::max<std::uint64_t>(1, request.row_length);
    const std::uint64_t bytes = rows * (2 * 4 + 2 * double_bytes + 8 * 4) + 6 * request.row_length * float_bytes;
    needs.offer(bytes, fmt::format("permutation null of '{}'", pair_name(plan, request.pair)));
  }
  for (const cross_layer_request& request : plan.cross_layers)
    needs.offer(request.sample_elements() * (request.layers_a.size() + request.layers_b.size()) * (float_bytes + double_bytes),
                fmt::format("cross-layer unit of '{}'", request.role));
  for (const expert_match_request& request : plan.expert_matches)
    needs.offer(request.sample_elements() * (request.experts_a.size() + request.experts_b.size()) * float_bytes +
                    request.experts_a.size() * request.experts_b.size() * 3 * double_bytes,
                fmt::format("expert matching of layer {}", request.layer));
  for (const neuron_match_request& request : plan.neuron_matches) {
    const std::uint64_t larger = std::max(request.neurons_a, request.neurons_b);
    needs.offer(3 * (request.neurons_a + request.neurons_b) * request.column_count * float_bytes +
                    3 * larger * larger * double_bytes,
                fmt::format("neuron matching of layer {} {}", request.layer, request.group));
  }
  for (const hidden_match_request& request : plan.hidden_matches)
    needs.offer(request.row_count * (request.hidden + request.hidden_b) * float_bytes +
                    3 * request.hidden * request.hidden_b * double_bytes,
                fmt::format("hidden-dimension matching on '{}'", request.role));
  for (const head_match_request& request : plan.head_matches) {
    const std::uint64_t rows = 2 * (request.heads + request.kv_heads) * request.head_dim;
    needs.offer(2 * rows * request.column_count * float_bytes +
                    3 * (request.heads * request.heads + request.kv_heads * request.kv_heads) * double_bytes,
                fmt::format("head matching of layer {}", request.layer));
  }
  // A fingerprint decodes 4 MiB of rows at a time and keeps an FP64 basis of its row length
  // (subspace iteration) or a Gram matrix of the exact width.
  for (const fingerprint_request& request : plan.fingerprints) {
    std::uint64_t bytes = 0;
    for (const fingerprint_side* side : {&request.a, &request.b}) {
      const std::uint64_t length = side->shape.empty() ? 0 : side->shape.back();
      bytes = std::max(bytes, 2 * 4 * mib + 4 * length * fingerprint_basis * double_bytes +
                                  3 * fingerprint_exact_width * fingerprint_exact_width * double_bytes);
    }
    needs.offer(bytes, fmt::format("fingerprint of layer {} '{}'", request.layer, request.role));
  }
  return needs.largest();
}

std::uint64_t memory_reserve(const work_plan& plan) noexcept {
  // Each tensor pair's results, figures and report rows are a few KiB.
  return 32 * mib + (plan.pairs.size() + plan.unpaired.size()) * 8 * 1024;
}

read_settings reading_within_budget(const work_plan& plan, std::uint64_t budget, read_method method,
                                    std::uint64_t resident) {
  read_settings settings;
  settings.method = method;
  if (budget == 0) return settings;
  const memory_need unit = largest_memory_need(plan);
  const std::uint64_t reserve = memory_reserve(plan);
  const std::uint64_t fixed = resident + reserve + unit.bytes;
  const std::uint64_t needed = fixed + 4 * smallest_window;
  if (budget < needed)
    throw usage_error(fmt::format(
        "memory_budget (--memory-budget) {}: too small for this comparison: a rank holds {} before its first "
        "unit, {} in reserve for results and the report, and its largest unit ({}) needs {} more, and read windows "
        "{} more; a budget of at least {} will do",
        mebibytes(budget), mebibytes(resident), mebibytes(reserve), unit.unit, mebibytes(unit.bytes),
        mebibytes(4 * smallest_window), mebibytes(needed + mib - 1)));
  settings.window_bytes = std::clamp((budget - fixed) / 4, smallest_window, largest_window);
  return settings;
}

}  // namespace lineage
