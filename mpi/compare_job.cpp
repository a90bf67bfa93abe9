#include "mpi/compare_job.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <iostream>

#include "core/atomic_output.hpp"
#include "core/version.hpp"
#include "mpi/comparison_steps.hpp"
#include "mpi/plan_io.hpp"
#include "reduce/block_results.hpp"
#include "reduce/report_writers.hpp"
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
  job.plan = plan_comparison(job.config, comm.size());
  return job;
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

  // Phase 2: every rank computes its blocks and its permutation nulls.
  rank_results results;
  if (local.ok()) local = attempt([&] { results = compute_share(job.plan, comm.rank()); });
  status = agree(comm, local);
  if (status != static_cast<int>(exit_status::ok)) return status;

  // Phase 3: gather in rank order, merge in plan order, write the report on rank 0.
  const auto gathered = comm.gather(serialize_results(results));
  outcome reported;
  if (comm.is_root())
    reported = attempt([&] {
      std::vector<rank_results> per_rank;
      for (const auto& bytes : gathered) per_rank.push_back(deserialize_results(bytes));
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
      const comparison_report report =
          reduce_comparison(job.plan, per_rank, std::move(manifest), {job.config.alpha, job.config.seed});
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
