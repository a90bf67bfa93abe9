#include "app/search_compares.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "app/mpi_job.hpp"
#include "core/atomic_output.hpp"
#include "mpi/compare_job.hpp"
#include "registry/registry_listing.hpp"

namespace lineage {
namespace {

namespace fs = std::filesystem;

// The runs to make, in rank order, each with its status when it cannot run.
std::vector<compare_run> planned(const search_result& result, const compare_top_request& request) {
  std::vector<compare_run> runs;
  for (std::size_t i = 0; i < result.candidates.size() && i < request.count; ++i) {
    const registry_entry& m = result.candidates[i].member;
    std::string stem = fingerprint_file_name(m.name);
    stem.resize(stem.size() - std::string(".fingerprint.h5").size());
    compare_run run{m.name, m.source, (request.output / "compare" / stem).string(), "", "", compare_run{}.p};
    std::error_code ec;
    if (!request.query_has_weights) run.status = "not compared: the query is a fingerprint, its weights are not at hand";
    else if (m.source.empty() || !fs::exists(m.source, ec))
      run.status = "not compared: the member's weights are not at hand" + (m.source.empty() ? "" : " (" + m.source + ")");
    if (!run.status.empty()) run.output.clear();
    runs.push_back(std::move(run));
  }
  return runs;
}

// The comparison's verdict and global p from its report.json.
void read_verdict(compare_run& run) {
  std::ifstream in(fs::path(run.output) / "report.json");
  const nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.contains("verdict")) return;
  run.verdict = doc["verdict"].value("label", "");
  if (doc["verdict"].contains("p_global") && doc["verdict"]["p_global"].is_number())
    run.p = doc["verdict"]["p_global"].get<double>();
}

void run_here(std::vector<compare_run>& runs, const compare_top_request& request) {
  (void)run_mpi_job([&](const communicator& world) {
    for (compare_run& run : runs) {
      if (!run.status.empty()) continue;
      compare_request compare;
      compare.arguments.model_a = run.source;
      compare.arguments.model_b = fs::absolute(request.query).string();
      compare.arguments.output_dir = run.output;
      compare.command_line = fmt::format("lineage compare {} {} -o {}", run.source, request.query.string(), run.output);
      compare.progress = "none";
      const int status = run_compare_job(world, compare);
      run.status = status == 0 ? "compared" : fmt::format("failed (exit {})", status);
      if (status == 0) read_verdict(run);
    }
    return 0;
  });
}

void write_job_array(std::vector<compare_run>& runs, const compare_top_request& request) {
  std::string jobs;
  for (compare_run& run : runs) {
    if (!run.status.empty()) continue;
    ensure_writable_directory(fs::path(run.output).parent_path());
    // Beside the comparison's directory, which holds only what the comparison writes.
    const fs::path job = fs::absolute(fs::path(run.output + ".yaml"));
    write_file_atomically(job, fmt::format("model_a: {}\nmodel_b: {}\noutput: {}\n", nlohmann::json(run.source).dump(),
                                           nlohmann::json(fs::absolute(request.query).string()).dump(),
                                           nlohmann::json(fs::absolute(run.output).string()).dump()));
    jobs += " " + nlohmann::json(job.string()).dump();
    run.status = "job file written: " + job.string();
  }
  const std::size_t count = static_cast<std::size_t>(std::count_if(runs.begin(), runs.end(), [](const auto& r) {
    return r.status.starts_with("job file written");
  }));
  write_file_atomically(request.output / "compare-top.sbatch",
                        fmt::format("#!/bin/bash\n# The full comparisons of lineage search --compare-top as a Slurm job "
                                    "array (one task per job file):\n#   sbatch --array=0-{} [--ntasks=R] {}\n"
                                    "#SBATCH --job-name=lineage-compare-top\n#SBATCH --output=lineage-%x-%A_%a.out\n"
                                    "set -uo pipefail\njobs=({})\ntask=${{SLURM_ARRAY_TASK_ID:?run as a job array "
                                    "task}}\ntemplates=${{LINEAGE_SLURM_DIR:-${{SLURM_SUBMIT_DIR:-$PWD}}/slurm}}\n"
                                    "exec bash \"$templates/compare.sbatch\" \"${{jobs[$task]}}\" \"$@\"\n",
                                    count == 0 ? 0 : count - 1, (request.output / "compare-top.sbatch").string(), jobs));
}

}  // namespace

std::vector<compare_run> compare_top(const search_result& result, const compare_top_request& request) {
  std::vector<compare_run> runs = planned(result, request);
  if (request.slurm) write_job_array(runs, request);
  else run_here(runs, request);
  return runs;
}

}  // namespace lineage
