#include "mpi/compare_job.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <iostream>

#include "core/atomic_output.hpp"
#include "core/version.hpp"
#include "mpi/plan_io.hpp"
#include "reduce/block_results.hpp"
#include "reduce/report_writers.hpp"
#include "shard/block_compute.hpp"
#include "shard/kernel.hpp"

namespace lineage {
namespace {

// A phase's outcome on one rank.
struct outcome {
  int status = static_cast<int>(exit_status::ok);
  std::string message;
  [[nodiscard]] bool ok() const noexcept { return status == static_cast<int>(exit_status::ok); }
};

template <typename Work>
outcome attempt(Work&& work) {
  try {
    work();
    return {};
  } catch (const error& e) {
    return {static_cast<int>(e.status()), e.what()};
  } catch (const std::exception& e) {
    return {static_cast<int>(exit_status::failure), fmt::format("unexpected failure: {}", e.what())};
  }
}

void print_error(const std::string& message) { std::cerr << "lineage: error: " << message << std::endl; }

// All ranks agree on the worst status; rank 0 prints the message of the lowest failing rank.
int agree(const communicator& comm, const outcome& mine) {
  const int worst = comm.max(mine.status);
  if (worst == static_cast<int>(exit_status::ok)) return worst;
  const std::vector<char> bytes(mine.message.begin(), mine.message.end());
  const auto messages = comm.gather(bytes);
  if (comm.is_root())
    for (std::size_t r = 0; r < messages.size(); ++r)
      if (!messages[r].empty()) {
        const std::string text(messages[r].begin(), messages[r].end());
        print_error(r == 0 ? text : fmt::format("[rank {}] {}", r, text));
        break;
      }
  return worst;
}

std::string utc_now() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)));
}

std::string host_name() {
  char name[256] = {};
  return ::gethostname(name, sizeof name - 1) == 0 ? std::string(name) : std::string("unknown");
}

std::vector<std::filesystem::path> as_paths(const std::vector<std::string>& files) {
  return {files.begin(), files.end()};
}

// Rank 0's first phase.
struct prepared_job {
  compare_config config;
  work_plan plan;
  std::string start_time;
};

prepared_job prepare(const communicator& comm, const compare_request& request) {
  prepared_job job;
  job.start_time = utc_now();
  job.config = resolve_compare_config(request.arguments);
  const std::filesystem::path out = job.config.output_dir;
  ensure_writable_directory(out);
  // A report left by an earlier run must not pass for this run's result if this one fails.
  for (const char* name : {"report.h5", "report.json"}) std::filesystem::remove(out / name);
  const auto registry = architecture_registry::load(
      job.config.arch_dir ? std::optional<std::filesystem::path>(*job.config.arch_dir) : std::nullopt);
  const checkpoint a = open_checkpoint(job.config.model_a);
  const checkpoint b = open_checkpoint(job.config.model_b);
  job.plan = make_plan(a, b, registry, {job.config.block_elements, comm.size()});
  return job;
}

std::vector<block_result> compute_my_blocks(const communicator& comm, const work_plan& plan) {
  block_reader reader(as_paths(plan.model_a.files), as_paths(plan.model_b.files));
  const auto first = plan.rank_first_block.at(static_cast<std::size_t>(comm.rank()));
  const auto last = plan.rank_first_block.at(static_cast<std::size_t>(comm.rank()) + 1);
  std::vector<block_result> results;
  results.reserve(last - first);
  for (auto i = first; i < last; ++i)
    results.push_back({i, pair_moments::from_block(reader.compute(plan.blocks[i]))});
  return results;
}

// Both files are complete under temporary names before either takes its final name.
void write_reports(const comparison_report& report, const std::filesystem::path& out) {
  atomic_output h5(out / "report.h5");
  atomic_output json(out / "report.json");
  write_file(h5.temporary_path(), report_h5_image(report, h5.final_path().string()));
  write_file(json.temporary_path(), report_json_text(report));
  h5.commit();
  json.commit();
}

}  // namespace

int run_compare_job(const communicator& comm, const compare_request& request) {
  // Phase 1: rank 0 plans; the plan (or the failure) is broadcast.
  prepared_job job;
  std::vector<char> plan_bytes;
  outcome planned;
  if (comm.is_root())
    planned = attempt([&] {
      job = prepare(comm, request);
      plan_bytes = serialize_plan(job.plan);
    });
  int status = planned.status;
  comm.broadcast(status);
  if (status != static_cast<int>(exit_status::ok)) {
    if (comm.is_root()) print_error(planned.message);
    return status;
  }
  comm.broadcast(plan_bytes);
  outcome local = attempt([&] {
    if (!comm.is_root()) job.plan = deserialize_plan(plan_bytes);
  });

  // Phase 2: every rank computes its blocks.
  std::vector<block_result> results;
  if (local.ok()) local = attempt([&] { results = compute_my_blocks(comm, job.plan); });
  status = agree(comm, local);
  if (status != static_cast<int>(exit_status::ok)) return status;

  // Phase 3: gather in rank order, merge in plan order, write the report on rank 0.
  const auto gathered = comm.gather(serialize_results(results));
  outcome reported;
  if (comm.is_root())
    reported = attempt([&] {
      std::vector<std::vector<block_result>> per_rank;
      for (const auto& bytes : gathered) per_rank.push_back(deserialize_results(bytes));
      const auto merged = merge_in_plan_order(job.plan, per_rank);
      run_manifest manifest;
      manifest.tool_version = tool_version();
      manifest.git_hash = git_hash();
      manifest.command_line = request.command_line;
      manifest.config_json = job.config.to_json().dump();
      manifest.start_time = job.start_time;
      manifest.host = host_name();
      manifest.kernel = best_kernel().name;
      manifest.ranks = comm.size();
      manifest.block_elements = job.plan.block_elements;
      manifest.end_time = utc_now();
      const comparison_report report = build_report(job.plan, merged, std::move(manifest));
      const std::filesystem::path out = job.config.output_dir;
      write_reports(report, out);
      print_terminal_table(report, std::cout);
      std::cout << "report: " << (out / "report.h5").string() << "\n"
                << "report: " << (out / "report.json").string() << std::endl;
    });
  status = reported.status;
  comm.broadcast(status);
  if (comm.is_root() && !reported.ok()) print_error(reported.message);
  return status;
}

}  // namespace lineage
