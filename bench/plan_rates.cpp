// Where lineage plan --measure-speed's reference comes from (issue 20: the estimate within ±30 % on
// any machine). One default comparison of a pair (scripts/bench-e2e's, or any) and of the speed
// probe's own pair, both in this process on one rank, every unit timed (probe/unit_timing.hpp):
// for each kind of unit, the pair's and the probe's estimated / measured seconds at the plan's
// rates, and the probe's ratio over the pair's — the reference ratio probe/speed_probe.cpp holds
// when this machine is the reference. The rates themselves are right on a machine where the pair's
// ratios are 1; the probe only needs the two ratios measured on the same machine.
//   bench_plan_rates A B [--runs N]   (N runs of the pair, alternating with 2N of the probe)
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "core/resource_usage.hpp"
#include "probe/probe_pair.hpp"
#include "probe/speed_probe.hpp"
#include "probe/unit_timing.hpp"

namespace {

lineage::compare_config config_of(const std::string& a, const std::string& b, const std::filesystem::path& output) {
  lineage::compare_arguments arguments;
  arguments.model_a = a;
  arguments.model_b = b;
  arguments.output_dir = output.string();  // required; nothing is written
  return lineage::resolve_compare_config(arguments);
}

void print_row(const char* name, double pair_estimated, double pair_measured, double probe_ratio, double pair_ratio) {
  const double reference = probe_ratio > 0 && pair_ratio > 0 ? probe_ratio / pair_ratio : 0;
  fmt::print("| {} | {:.3f} / {:.3f} s | {:.3f} | {:.3f} | {:.3f} |\n", name, pair_estimated, pair_measured, pair_ratio,
             probe_ratio, reference);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Each kind of unit's estimated / measured seconds on a pair and on the speed probe's pair");
  std::string a, b;
  int runs = 2;
  app.add_option("A", a)->required();
  app.add_option("B", b)->required();
  app.add_option("--runs", runs, "runs of the pair, each after 2 of the probe; each kind keeps its fastest (default 2)")->check(CLI::Range(1, 20));
  CLI11_PARSE(app, argc, argv);
  lineage::keep_freed_memory();  // as the lineage executable does (app/main.cpp)
  try {
    const lineage::probe_pair probe(lineage::probe_scratch());
    // Alternately, so that a machine whose speed drifts (a shared host) moves both alike.
    const auto pair_config = config_of(a, b, probe.output());
    const auto probe_config = config_of(probe.a().string(), probe.b().string(), probe.output());
    lineage::comparison_timing own = lineage::fastest_of(probe_config, 2), pair = lineage::time_comparison(pair_config);
    for (int i = 1; i < runs; ++i) {
      lineage::keep_fastest(own, lineage::fastest_of(probe_config, 2));
      lineage::keep_fastest(pair, lineage::time_comparison(pair_config));
    }
    fmt::print("## estimated / measured seconds by kind of unit: {} against {}, and the speed probe's pair\n\n", b, a);
    fmt::print("| kind | the pair: estimated / measured | ratio | the probe's ratio | probe / pair (the reference) |\n");
    fmt::print("|---|---|---|---|---|\n");
    for (std::size_t k = 0; k < lineage::unit_kind_count; ++k) {
      const auto kind = static_cast<lineage::unit_kind>(k);
      const auto& mine = pair.of(kind);
      print_row(std::string(lineage::unit_kind_name(kind)).c_str(), mine.estimated, mine.measured,
                lineage::estimate_ratio(own.of(kind)), lineage::estimate_ratio(mine));
    }
    print_row("blocks (at 6 GB/s)", pair.block_bytes / 6e9, pair.block_seconds, lineage::block_ratio(own),
              lineage::block_ratio(pair));
    fmt::print("\nphases of the pair, measured: matching {:.2f} s, blocks {:.2f} s, nulls {:.2f} s, other {:.2f} s\n",
               pair.phases.matching, pair.phases.blocks, pair.phases.nulls, pair.phases.other);
  } catch (const lineage::error& e) {
    fmt::print(stderr, "bench_plan_rates: {}\n", e.what());
    return 2;
  }
  return 0;
}
