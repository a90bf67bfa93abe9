#include "probe/speed_probe.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <vector>

#include "core/error.hpp"
#include "probe/concurrent_runs.hpp"
#include "probe/probe_pair.hpp"

namespace lineage {
namespace {

// The reference: a machine where the plan's rates hold. Measured on an AMD EPYC (2 cores, AVX-512;
// 2026-12-07; head and hidden matching again that night, the matching phase's clock started after
// the first plan as lineage compare's) by build/bench/bench_plan_rates on scripts/bench-e2e's
// scale-1 pair (three runs of --runs 4, each kind its mean): the probe's estimated / measured
// seconds of each kind divided by the same ratio of the scale-1 pair, so that on any machine the
// probe's ratio over these is the factor that makes the scale-1 pair's estimate its measured time (docs/PERFORMANCE.md, "lineage plan on
// another machine"). 0: the probe pair has no such unit (its factor is a related kind's).
constexpr std::array<double, unit_kind_count> reference_ratios{
    0.93,  // null_cyclic (0.90 - 0.94)
    1.07,  // null_products (1.04 - 1.11)
    0,     // null_rows: none by default (--null-draws random)
    0,     // null_columns: likewise
    1.07,  // cross_layer (1.05 - 1.09)
    1.29,  // neuron_match (1.27 - 1.32)
    0,     // fingerprint: B of another width
    0,     // expert_match: MoE pairs
    1.13,  // head_match (1.10 - 1.17)
    1.55,  // hidden_match (1.50 - 1.64)
    0,     // hidden_rotation: unrelated or rotated pairs
};
// The blocks: bench_plan_rates measured 0.78-0.83 on the scale-1 pair, but lineage compare's blocks
// phase runs 1.5 times slower per byte on the scale-4 pair (7.7 against 11.4 GB/s), which one rate
// per byte cannot follow; set between them (the six bench-e2e runs of 2026-12-07 night would
// each have been met exactly with 0.81-1.27).
constexpr double reference_blocks = 1.0;

// The kind whose factor stands for one the probe has no unit of.
unit_kind related(unit_kind kind) noexcept {
  switch (kind) {
    case unit_kind::fingerprint: return unit_kind::neuron_match;
    case unit_kind::expert_match: return unit_kind::head_match;
    case unit_kind::hidden_rotation: return unit_kind::hidden_match;
    case unit_kind::null_rows:
    case unit_kind::null_columns: return unit_kind::null_cyclic;  // passes over the rows, as theirs
    default: return kind;
  }
}

// Each kind's, the blocks' and each phase's mean over the processes (the estimates are the same
// in every process: one plan).
comparison_timing mean_of(const std::vector<comparison_timing>& each) {
  comparison_timing out = each.front();
  const auto n = static_cast<double>(each.size());
  const auto mean = [&](auto&& field) {
    double sum = 0;
    for (const comparison_timing& t : each) sum += field(t);
    return sum / n;
  };
  for (std::size_t k = 0; k < unit_kind_count; ++k)
    out.kinds[k].measured = mean([k](const comparison_timing& t) { return t.kinds[k].measured; });
  out.block_seconds = mean([](const comparison_timing& t) { return t.block_seconds; });
  out.phases.matching = mean([](const comparison_timing& t) { return t.phases.matching; });
  out.phases.blocks = mean([](const comparison_timing& t) { return t.phases.blocks; });
  out.phases.nulls = mean([](const comparison_timing& t) { return t.phases.nulls; });
  out.phases.other = mean([](const comparison_timing& t) { return t.phases.other; });
  return out;
}

double factor_of(double ratio, double reference) {
  return ratio > 0 && reference > 0 ? ratio / reference : 0;
}

void set_factors(speed_probe_result& out) {
  for (std::size_t k = 0; k < unit_kind_count; ++k) {
    const auto kind = static_cast<unit_kind>(k);
    out.speed.factors[k] = factor_of(estimate_ratio(out.timing.of(kind)), reference_ratio(kind));
  }
  for (std::size_t k = 0; k < unit_kind_count; ++k) {
    if (out.speed.factors[k] > 0) continue;
    out.borrowed[k] = true;
    out.speed.factors[k] = out.speed.of(related(static_cast<unit_kind>(k)));
    if (!(out.speed.factors[k] > 0))
      throw internal_error(fmt::format("speed probe: no unit of kind {} or of a related one was timed",
                                       unit_kind_name(static_cast<unit_kind>(k))));
  }
  out.blocks = factor_of(block_ratio(out.timing), reference_block_ratio());
  if (!(out.blocks > 0)) throw internal_error("speed probe: the blocks were not timed");
}

}  // namespace

double estimate_ratio(const kind_timing& kind) noexcept {
  return kind.measured > 0 && kind.estimated > 0 ? kind.estimated / kind.measured : 0;
}

double block_ratio(const comparison_timing& timing) noexcept {
  return timing.block_seconds > 0 ? timing.block_bytes / (reference_kernel_gbps * 1e9) / timing.block_seconds : 0;
}

double reference_ratio(unit_kind kind) noexcept { return reference_ratios[static_cast<std::size_t>(kind)]; }
double reference_block_ratio() noexcept { return reference_blocks; }

std::filesystem::path probe_scratch() {
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir != nullptr && *tmpdir != '\0' ? std::filesystem::path(tmpdir) : std::filesystem::path("/tmp");
}

speed_probe_result measure_speed(const std::filesystem::path& scratch, int processes, int runs) {
  if (processes < 1 || runs < 1) throw internal_error("measure_speed: at least one process and one run");
  const probe_pair pair(scratch);
  compare_arguments arguments;
  arguments.model_a = pair.a().string();
  arguments.model_b = pair.b().string();
  arguments.output_dir = pair.output().string();  // required by the config; nothing is written
  const compare_config config = resolve_compare_config(arguments);
  speed_probe_result out;
  out.timing = mean_of(run_concurrently(processes, [&config, runs] { return fastest_of(config, runs); }));
  out.runs = runs;
  out.processes = processes;
  set_factors(out);
  return out;
}

}  // namespace lineage
