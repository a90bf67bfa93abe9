#include "app/plan_command.hpp"

#include <fmt/format.h>
#include <sched.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/shape_list.hpp"
#include "core/atomic_output.hpp"
#include "core/display_text.hpp"
#include "core/error.hpp"
#include "core/resource_usage.hpp"
#include "job/job_config.hpp"
#include "plan/memory_budget.hpp"
#include "plan/plan.hpp"
#include "plan/plan_projection.hpp"
#include "plan/time_estimate.hpp"
#include "probe/speed_probe.hpp"

namespace lineage {
namespace {

using json = nlohmann::json;

// What a rank's statistics pass reads per second when the file system is not the limit: the block
// reads with the manifest's XXH3 of both sides, mapped from the page cache (docs/PERFORMANCE.md,
// "The manifest's hashes on block reads": 5.91 GB/s; scripts/bench-e2e's blocks phase 5.9-7.2
// GB/s at scales 1 and 4). The kernel alone runs at about 12 (11.7-13.3) GB/s.
constexpr double default_kernel_gbps = reference_kernel_gbps;
constexpr const char* kernel_gbps_source =
    "docs/PERFORMANCE.md: block reads with the manifest's hashes at 5.9 GB/s on one core (page cache, Intel Xeon, AVX2)";
// A conservative parallel file system's read rate into one node; pass --bandwidth for yours.
constexpr double default_bandwidth_gbps = 5.0;
constexpr std::uint64_t max_ranks = 1'000'000;

struct plan_request {
  std::string model_a, model_b;
  std::uint64_t ranks = 0;           // 0: nodes × ranks per node
  std::uint64_t nodes = 1;
  std::uint64_t ranks_per_node = 1;
  double bandwidth_gbps = default_bandwidth_gbps;
  bool bandwidth_given = false;
  double kernel_gbps = default_kernel_gbps;
  bool kernel_given = false;
  bool measure_speed = false;  // --measure-speed: this machine's speed from the probe (probe/speed_probe.hpp)
  std::uint64_t block_elements = default_block_elements;
  std::string memory_budget;  // "" for none
  std::string io_mode = "map";
  std::string output;
  std::string arch_dir;
};

std::string decimal_count(const std::string& text) {
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || text.front() == '0' || text.size() > 18) return "must be a positive decimal integer, got '" + text + "'";
  return {};
}

std::string positive_rate(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !std::isfinite(value) || value <= 0)
    return "must be a positive number of GB/s, got '" + text + "'";
  return {};
}

checkpoint open_for_planning(const std::string& path) {
  if (is_shape_list_path(path)) return read_shape_list(path);
  return open_checkpoint(path, checkpoint_open_options{.allow_header_only = true});
}

std::uint64_t tensor_bytes(const checkpoint& model) {
  std::uint64_t total = 0;
  for (const auto& tensor : model.tensors) total += tensor.byte_length();
  return total;
}

std::string gigabytes(double bytes) { return fmt::format("{:.3f} GB", bytes / 1e9); }

std::string duration(double seconds) {
  if (seconds < 120) return fmt::format("{:.2f} s", seconds);
  if (seconds < 7200) return fmt::format("{:.1f} min", seconds / 60);
  return fmt::format("{:.2f} h", seconds / 3600);
}

struct rank_figures {
  std::uint64_t blocks = 0, bytes = 0, nulls = 0;
  phase_seconds seconds;         // its estimated time per phase (plan/time_estimate.hpp)
  std::map<std::string, std::uint64_t> cost_units;  // by kind of unit: the sum of their cost()
  std::uint64_t matching_units = 0;
  unit_memory largest;           // its unit with the largest resident need (plan/memory_budget.hpp)
};

std::vector<rank_figures> per_rank(const work_plan& plan) {
  std::vector<rank_figures> ranks(static_cast<std::size_t>(plan.ranks()));
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    for (auto i = plan.rank_first_block[r]; i < plan.rank_first_block[r + 1]; ++i) {
      const work_block& block = plan.blocks[i];
      ranks[r].blocks += 1;
      ranks[r].bytes += block.elements * (dtype_size(block.a.type) + dtype_size(block.b.type));
    }
  }
  // The manifest's content units read what no block does (unpaired tensors, B read through an
  // alignment) and, with --sha256, whole files.
  for (std::size_t i = 0; i < plan.content.units.size(); ++i)
    ranks.at(plan.content.unit_rank.at(i)).bytes += plan.content.units[i].bytes;
  for (std::size_t i = 0; i < plan.nulls.size(); ++i) {
    rank_figures& figures = ranks.at(plan.null_rank.at(i));
    figures.nulls += 1;
  }
  const auto add_costs = [&](const auto& requests, const std::vector<std::uint32_t>& unit_rank, const char* kind) {
    for (std::size_t i = 0; i < requests.size(); ++i) ranks.at(unit_rank.at(i)).cost_units[kind] += requests[i].cost();
  };
  add_costs(plan.nulls, plan.null_rank, "nulls");
  add_costs(plan.cross_layers, plan.cross_layer_rank, "cross_layer");
  add_costs(plan.neuron_matches, plan.neuron_match_rank, "neuron_matching");
  add_costs(plan.fingerprints, plan.fingerprint_rank, "fingerprints");
  add_costs(plan.expert_matches, plan.expert_match_rank, "expert_matching");
  add_costs(plan.head_matches, plan.head_match_rank, "head_matching");
  // Every rank computes each hidden unit with the others; the rank it was dealt to leads it.
  for (std::size_t i = 0; i < plan.hidden_matches.size(); ++i)
    for (std::size_t r = 0; r < ranks.size(); ++r) {
      const hidden_match_request& request = plan.hidden_matches[i];
      ranks[r].cost_units["hidden_matching"] += request.member_cost(ranks.size());
      ranks[r].cost_units["hidden_rotation"] += request.member_rotation_cost(ranks.size(), plan.hidden_match_rank.at(i) == r);
    }
  const auto count_units = [&](const std::vector<std::uint32_t>& unit_rank) {
    for (const std::uint32_t r : unit_rank) ranks.at(r).matching_units += 1;
  };
  count_units(plan.hidden_match_rank);
  count_units(plan.expert_match_rank);
  count_units(plan.head_match_rank);
  count_units(plan.neuron_match_rank);
  for (unit_memory& unit : memory_by_unit(plan, plan.reading)) {
    unit_memory& largest = ranks.at(unit.rank).largest;
    if (unit.total > largest.total) largest = std::move(unit);
  }
  return ranks;
}

// The matching units the projected plan holds (each taken as not run).
std::string matching_units(const work_plan& plan) {
  return fmt::format("{} hidden-dimension, {} expert (MoE layers), {} head, {} neuron (MLPs)", plan.hidden_matches.size(),
                     plan.expert_matches.size(), plan.head_matches.size(), plan.neuron_matches.size());
}

// The speed probe runs as many copies at once as a node will run ranks, up to the cores this process
// may run on (under Slurm, the job's allocation, not the node's): ranks beyond the cores share
// them, which more copies would only repeat.
int probe_processes(std::uint64_t ranks_per_node) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  const std::uint64_t cores = ::sched_getaffinity(0, sizeof allowed, &allowed) == 0
                                  ? static_cast<std::uint64_t>(std::max(1, CPU_COUNT(&allowed)))
                                  : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::min<std::uint64_t>({ranks_per_node, cores, 64}));
}

// Everything `lineage plan` prints and writes, computed once.
struct plan_summary {
  std::uint64_t nodes = 1, ranks_per_node = 1;
  int ranks = 1;
  checkpoint a, b;
  work_plan plan;
  std::uint64_t resident = 0, budget = 0, base = 0;  // base: resident + reserve, before any unit
  std::vector<rank_figures> figures;
  std::uint64_t least_bytes = 0, most_bytes = 0, memory_min = 0, memory_max = 0;
  std::string largest_unit;  // the unit of the rank with the largest need
  std::uint64_t unpaired_a = 0, unpaired_b = 0, bytes_a = 0, bytes_b = 0;
  double rate_gbps = 0;
  double kernel_gbps = 0;                  // the request's, or the reference's at the measured speed
  std::optional<speed_probe_result> probe;  // --measure-speed
  phase_seconds slowest;  // the phases of the rank that takes longest
  std::string memory_formula;
};

constexpr const char* time_formula =
    "per rank: its blocks' bytes / min(kernel GB/s per rank, bandwidth per node / ranks per node), plus each unit's "
    "cost units at its kind's rate on one core (plan/time_estimate.cpp; docs/PERFORMANCE.md, \"Where lineage plan's "
    "estimate comes from\"), plus the matching phases' slowest ranks; the estimate is the slowest rank's";

std::string memory_formula(std::uint64_t resident, const work_plan& plan) {
  return fmt::format(
      "resident before the first unit ({:.0f} MiB, as in this process) + reserve for results and the report + the "
      "largest need of the rank's units: a block's bytes (x2 for B when aligned), a matching unit's decoded rows "
      "and similarity matrices, a null's per-row arrays and reads ({}) (plan/memory_budget.hpp)",
      static_cast<double>(resident) / (1 << 20),
      plan.reading.window_bytes == 0
          ? fmt::format("both tensors mapped whole, each side decoded whole up to {} MiB of floats",
                        unbounded_float_limit >> 20)
          : fmt::format("windows of {:.1f} MiB per side for mapped bytes and floats, from the budget",
                        static_cast<double>(plan.reading.window_bytes) / (1 << 20)));
}

// The plan of the request's pair for its ranks, read as rank 0 would, with its reading mode.
void make_summary_plan(const plan_request& request, plan_summary& s) {
  s.nodes = request.ranks != 0 ? 1 : request.nodes;
  s.ranks_per_node = request.ranks != 0 ? request.ranks : request.ranks_per_node;
  if (s.nodes > max_ranks || s.ranks_per_node > max_ranks || s.nodes * s.ranks_per_node > max_ranks)
    throw usage_error(fmt::format("--nodes × --ranks-per-node: at most {} ranks, got {} × {}", max_ranks, s.nodes,
                                  s.ranks_per_node));
  s.ranks = static_cast<int>(s.nodes * s.ranks_per_node);
  const auto registry = architecture_registry::load(
      request.arch_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(request.arch_dir));
  s.a = open_for_planning(request.model_a);
  s.b = open_for_planning(request.model_b);
  plan_options options;
  options.block_elements = request.block_elements;
  options.ranks = s.ranks;
  s.plan = plan_without_matching_bytes(s.a, s.b, registry, options);
  // What this process holds now, having read the headers as rank 0 would, stands for a rank's
  // resident memory before its first unit.
  s.resident = current_resident_bytes();
  s.budget = request.memory_budget.empty() ? 0 : parse_byte_size(request.memory_budget, "--memory-budget");
  s.plan.reading = reading_within_budget(s.plan, s.budget,
                                         request.io_mode == "read" ? read_method::read : read_method::map, s.resident);
  s.base = s.resident + memory_reserve(s.plan);
}

plan_summary summarise(const plan_request& request) {
  plan_summary s;
  make_summary_plan(request, s);
  s.figures = per_rank(s.plan);
  const auto by_bytes = [](const rank_figures& x, const rank_figures& y) { return x.bytes < y.bytes; };
  const auto by_memory = [](const rank_figures& x, const rank_figures& y) { return x.largest.total < y.largest.total; };
  s.least_bytes = std::min_element(s.figures.begin(), s.figures.end(), by_bytes)->bytes;
  s.most_bytes = std::max_element(s.figures.begin(), s.figures.end(), by_bytes)->bytes;
  s.memory_min = s.base + std::min_element(s.figures.begin(), s.figures.end(), by_memory)->largest.total;
  const rank_figures& most_memory = *std::max_element(s.figures.begin(), s.figures.end(), by_memory);
  s.memory_max = s.base + most_memory.largest.total;
  s.largest_unit = most_memory.largest.unit;
  for (const auto& u : s.plan.unpaired) (u.side == 'a' ? s.unpaired_a : s.unpaired_b) += 1;
  const double share_gbps = request.bandwidth_gbps / static_cast<double>(s.ranks_per_node);
  machine_speed speed;
  s.kernel_gbps = request.kernel_gbps;
  if (request.measure_speed) {
    s.probe = measure_speed(probe_scratch(), probe_processes(s.ranks_per_node));
    speed = s.probe->speed;
    if (!request.kernel_given) s.kernel_gbps = reference_kernel_gbps * s.probe->blocks;
  }
  s.rate_gbps = std::min(s.kernel_gbps, share_gbps);
  const std::vector<phase_seconds> phases = estimate_phases(s.plan, s.rate_gbps * 1e9, speed);
  for (std::size_t r = 0; r < phases.size(); ++r) {
    s.figures.at(r).seconds = phases[r];
    if (phases[r].most() > s.slowest.most()) s.slowest = phases[r];
  }
  s.bytes_a = tensor_bytes(s.a);
  s.bytes_b = tensor_bytes(s.b);
  s.memory_formula = memory_formula(s.resident, s.plan);
  return s;
}

std::string kernel_source(const plan_request& request) {
  if (request.kernel_given) return "--kernel-gbps";
  return request.measure_speed ? "the reference's at this machine's measured speed (--measure-speed)" : kernel_gbps_source;
}

constexpr const char* reference_machine =
    "the rates' machine (Intel Xeon, one core; docs/PERFORMANCE.md, \"Where lineage plan's estimate comes from\")";

// The blocks' and each kind's factor; a kind the probe pair has no unit of says it is a related kind's.
std::string factor_list(const speed_probe_result& p) {
  std::string out = fmt::format("blocks {:.2f}x", p.blocks);
  for (std::size_t k = 0; k < unit_kind_count; ++k)
    out += fmt::format(", {} {:.2f}x{}", unit_kind_name(static_cast<unit_kind>(k)), p.speed.factors[k],
                       p.borrowed[k] ? " (a related kind's)" : "");
  return out;
}

std::string speed_line(const plan_summary& s) {
  if (!s.probe) return fmt::format("speed: {}; --measure-speed measures this machine's", reference_machine);
  const speed_probe_result& p = *s.probe;
  const phase_seconds& t = p.timing.phases;
  return fmt::format("speed: measured here (a default compare of a {} probe pair in {} process{} at once, each kind "
                     "the fastest of {} runs; matching {}, blocks {}, nulls {}, other {}): {} {}",
                     gigabytes(p.timing.block_bytes), p.processes, p.processes == 1 ? "" : "es", p.runs,
                     duration(t.matching), duration(t.blocks), duration(t.nulls), duration(t.other), factor_list(p),
                     reference_machine);
}

json speed_json(const plan_summary& s) {
  if (!s.probe) return {{"source", "reference"}, {"reference", reference_machine}};
  const speed_probe_result& p = *s.probe;
  json factors = {{"blocks", p.blocks}}, kinds = json::object();
  for (std::size_t k = 0; k < unit_kind_count; ++k) {
    const auto kind = static_cast<unit_kind>(k);
    const kind_timing& timing = p.timing.of(kind);
    factors[std::string(unit_kind_name(kind))] = p.speed.factors[k];
    kinds[std::string(unit_kind_name(kind))] = {{"units", timing.units}, {"estimated_seconds", timing.estimated},
                                                {"measured_seconds", timing.measured}, {"borrowed", p.borrowed[k]}};
  }
  const phase_seconds& t = p.timing.phases;
  return {{"source", "measured"},
          {"reference", reference_machine},
          {"factors", factors},
          {"probe", {{"pair_bytes", p.timing.block_bytes}, {"runs", p.runs}, {"processes", p.processes},
                     {"block_seconds", p.timing.block_seconds}, {"kinds", kinds},
                     {"phase_seconds", {{"matching", t.matching}, {"blocks", t.blocks}, {"nulls", t.nulls}, {"other", t.other}}}}}};
}

void print_summary(const plan_request& request, const plan_summary& s) {
  const auto describe = [](const model_description& m, const checkpoint& c, std::uint64_t bytes) {
    return fmt::format("{} ({}, rules {}, {} file{}, {} tensors, {})", m.path, m.model_type.empty() ? "no model_type" : m.model_type,
                       m.architecture, c.files.size(), c.files.size() == 1 ? "" : "s", c.tensors.size(),
                       gigabytes(static_cast<double>(bytes)));
  };
  const work_plan& plan = s.plan;
  fmt::print("A: {}\nB: {}\n", printable(describe(plan.model_a, s.a, s.bytes_a)), printable(describe(plan.model_b, s.b, s.bytes_b)));
  fmt::print("pairs: {} tensor pairs; unpaired: {} of A, {} of B\n", plan.pairs.size(), s.unpaired_a, s.unpaired_b);
  fmt::print("blocks: {} of {} elements; {} permutation nulls\n", plan.blocks.size(), plan.block_elements,
             plan.nulls.size());
  fmt::print("bytes compared: {} ({} of A and B's paired tensors); model bytes: A {}, B {}\n",
             gigabytes(static_cast<double>(plan.total_bytes())), plan.total_bytes(), gigabytes(static_cast<double>(s.bytes_a)),
             gigabytes(static_cast<double>(s.bytes_b)));
  fmt::print("ranks: {} ({} node{} x {} rank{} per node)\n", s.ranks, s.nodes, s.nodes == 1 ? "" : "s", s.ranks_per_node,
             s.ranks_per_node == 1 ? "" : "s");
  fmt::print("bytes per rank: min {}, max {}\n", gigabytes(static_cast<double>(s.least_bytes)),
             gigabytes(static_cast<double>(s.most_bytes)));
  fmt::print("resident memory per rank: min {}, max {}, largest unit: {}{} ({})\n",
             gigabytes(static_cast<double>(s.memory_min)), gigabytes(static_cast<double>(s.memory_max)),
             printable(s.largest_unit),
             s.budget == 0 ? std::string() : fmt::format("; within --memory-budget {}", gigabytes(static_cast<double>(s.budget))),
             s.memory_formula);
  fmt::print("{}\n", speed_line(s));
  fmt::print("kernel: {:.3g} GB/s per rank ({}); bandwidth: {} GB/s per node ({})\n", s.kernel_gbps,
             kernel_source(request), request.bandwidth_gbps,
             request.bandwidth_given ? "--bandwidth" : "assumed default; pass --bandwidth");
  const phase_seconds& t = s.slowest;
  fmt::print("estimated time on {} node{}: {}{} (matching {}{}, blocks {} at {:.3f} GB/s per rank, nulls {}, other {}) "
             "({})\n",
             s.nodes, s.nodes == 1 ? "" : "s", duration(t.least()),
             t.rotation > 0 ? fmt::format(" to {}", duration(t.most())) : std::string(), duration(t.matching),
             t.rotation > 0 ? fmt::format(" + {} when the hidden rotation is estimated (unrelated or rotated pairs)",
                                          duration(t.rotation))
                            : std::string(),
             duration(t.blocks), s.rate_gbps, duration(t.nulls), duration(t.other), time_formula);
  fmt::print("matching units: {}; planned as not run (hidden dimensions and heads in their order, experts by index): "
             "the counts above are a real run's when widths and expert counts agree\n",
             matching_units(plan));
}

json model_json(const model_description& m, const checkpoint& c, std::uint64_t bytes) {
  return {{"path", m.path}, {"model_type", m.model_type}, {"architecture", m.architecture},
          {"files", c.files.size()}, {"tensors", c.tensors.size()}, {"bytes", bytes}};
}

json per_rank_json(const plan_summary& s) {
  json rows = json::array();
  for (std::size_t r = 0; r < s.figures.size(); ++r) {
    const rank_figures& f = s.figures[r];
    rows.push_back({{"rank", r}, {"blocks", f.blocks}, {"bytes", f.bytes}, {"nulls", f.nulls},
                    {"null_multiply_adds", f.cost_units.contains("nulls") ? f.cost_units.at("nulls") : 0}, {"matching_units", f.matching_units},
                    {"estimated_seconds", {{"matching", f.seconds.matching}, {"rotation", f.seconds.rotation},
                                           {"blocks", f.seconds.blocks}, {"nulls", f.seconds.nulls},
                                           {"other", f.seconds.other}}},
                    {"cost_units", f.cost_units},
                    {"resident_bytes", s.base + f.largest.total}, {"largest_unit", f.largest.unit}});
  }
  return rows;
}

json plan_json(const plan_request& request, const plan_summary& s) {
  const work_plan& plan = s.plan;
  json document;
  document["model_a"] = model_json(plan.model_a, s.a, s.bytes_a);
  document["model_b"] = model_json(plan.model_b, s.b, s.bytes_b);
  document["block_elements"] = plan.block_elements;
  document["pairs"] = plan.pairs.size();
  document["unpaired_a"] = s.unpaired_a;
  document["unpaired_b"] = s.unpaired_b;
  document["blocks"] = plan.blocks.size();
  document["nulls"] = plan.nulls.size();
  document["bytes_compared"] = plan.total_bytes();
  document["nodes"] = s.nodes;
  document["ranks_per_node"] = s.ranks_per_node;
  document["ranks"] = s.ranks;
  document["per_rank"] = per_rank_json(s);
  document["bytes_per_rank"] = {{"min", s.least_bytes}, {"max", s.most_bytes}};
  document["resident_bytes_per_rank"] = {{"min", s.memory_min},        {"max", s.memory_max},
                                         {"formula", s.memory_formula}, {"memory_budget", s.budget},
                                         {"io_mode", request.io_mode},  {"window_bytes", plan.reading.window_bytes}};
  document["kernel_gbps_per_rank"] = {{"value", s.kernel_gbps}, {"source", kernel_source(request)}};
  document["machine_speed"] = speed_json(s);
  document["bandwidth_gbps_per_node"] = {{"value", request.bandwidth_gbps},
                                         {"source", request.bandwidth_given ? "--bandwidth" : "assumed default"}};
  document["rate_gbps_per_rank"] = s.rate_gbps;
  document["estimated_seconds"] = s.slowest.least();
  document["estimated_seconds_with_rotation"] = s.slowest.most();
  document["estimated_matching_seconds"] = s.slowest.matching;
  document["estimated_rotation_seconds"] = s.slowest.rotation;
  document["estimated_block_seconds"] = s.slowest.blocks;
  document["estimated_null_seconds"] = s.slowest.nulls;
  document["estimated_other_seconds"] = s.slowest.other;
  document["estimate_formula"] = time_formula;
  document["matching_units"] = {{"hidden", plan.hidden_matches.size()},
                                {"experts", plan.expert_matches.size()},
                                {"heads", plan.head_matches.size()},
                                {"neurons", plan.neuron_matches.size()},
                                {"planned_as", "not run: orders kept, experts by index"}};
  return document;
}

int run_plan(const plan_request& request) {
  const plan_summary summary = summarise(request);
  print_summary(request, summary);
  if (!request.output.empty()) {
    write_file_atomically(request.output,
                          plan_json(request, summary).dump(2, ' ', false, json::error_handler_t::replace) + "\n");
    fmt::print("plan: {}\n", request.output);
  }
  return 0;
}

}  // namespace

command add_plan_command(CLI::App& parent) {
  auto request = std::make_shared<plan_request>();
  CLI::App* app = parent.add_subcommand(
      "plan",
      "The work plan of a comparison from headers alone: pairs, blocks, bytes and memory per rank, and an "
      "estimated time for N nodes. No MPI needed; the safetensors files may hold only their headers");
  app->add_option("A", request->model_a, "model A: a checkpoint directory, a .safetensors file, or a shape list (.json)")
      ->required();
  app->add_option("B", request->model_b, "model B: a checkpoint directory, a .safetensors file, or a shape list (.json)")
      ->required();
  auto* ranks = app->add_option("--ranks", request->ranks, "ranks on one node (instead of --nodes and --ranks-per-node)")
                    ->check(decimal_count);
  auto* nodes = app->add_option("--nodes", request->nodes, "nodes (default 1)")->check(decimal_count);
  auto* per_node = app->add_option("--ranks-per-node", request->ranks_per_node, "ranks per node (default 1)")
                       ->check(decimal_count);
  ranks->excludes(nodes)->excludes(per_node);
  app->add_option("--bandwidth", request->bandwidth_gbps,
                  fmt::format("file-system read bandwidth per node in GB/s (default {}, assumed)", default_bandwidth_gbps))
      ->check(positive_rate)
      ->each([request](const std::string&) { request->bandwidth_given = true; });
  app->add_option("--kernel-gbps", request->kernel_gbps,
                  fmt::format("statistics pass speed per rank in GB/s: kernel, hashes and mapping (default {}: {})", default_kernel_gbps,
                              kernel_gbps_source))
      ->check(positive_rate)
      ->each([request](const std::string&) { request->kernel_given = true; });
  app->add_flag("--measure-speed", request->measure_speed,
                "measure this machine's speed against the rates' machine first (a default compare of a generated 84 MB "
                "pair in $TMPDIR, as many at once as ranks per node up to the cores, about 5 s; run it where the job "
                "will run) and estimate at that speed");
  app->add_option("--block-elements", request->block_elements, "elements per work block (default 4194304)")
      ->check(decimal_count);
  app->add_option("--memory-budget", request->memory_budget,
                  "resident bytes per rank to plan within (\"8GiB\", \"512MiB\"); refused when too small");
  app->add_option("--io", request->io_mode, "how units read their bytes: map or read (pread)")
      ->check(CLI::IsMember({"map", "read"}));
  app->add_option("-o,--output", request->output, "also write the plan figures as JSON to this file");
  app->add_option("--arch-dir", request->arch_dir, "directory of architecture rule files to use instead of the built-in ones");
  return {app, [request]() -> int { return run_plan(*request); }};
}

}  // namespace lineage
