#include "mpi/compare_job.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <ctime>
#include <iostream>

#include "checkpoint/checkpoint.hpp"
#include "core/atomic_output.hpp"
#include "core/display_text.hpp"
#include "core/resource_usage.hpp"
#include "core/version.hpp"
#include "job/comparison_steps.hpp"
#include "job/interrupt_signal.hpp"
#include "job/model_file_identity.hpp"
#include "job/progress_meter.hpp"
#include "job/saved_work.hpp"
#include "mpi/distributed_comparison.hpp"
#include "reduce/block_results.hpp"
#include "reduce/reference_panel.hpp"
#include "report/rendered_reports.hpp"
#include "report/report_writers.hpp"
#include "shard/kernel.hpp"

namespace lineage {
namespace {

std::string utc_now() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::time(nullptr)));
}

// What rank 0 knows before any rank reads a weight.
struct prepared_job {
  compare_config config;
  work_plan plan;
  std::string start_time;
  std::vector<panel_comparison> panel;  // read from panel_reports; the job's own follow
  std::vector<model_file_identity> model_files;  // checked again before the report is written
};

constexpr const char* report_names[] = {"report.h5", "report.json", "report.html", "report.md"};

// A report left by an earlier run in `out` must not pass for this run's result if this one fails:
// it goes first. Something under a report's name that is not a file is bad input, named.
void remove_earlier_reports(const std::filesystem::path& out) {
  for (const char* name : report_names) {
    const std::filesystem::path path = out / name;
    std::error_code error;
    const auto status = std::filesystem::symlink_status(path, error);
    if (error || !std::filesystem::exists(status)) continue;
    if (std::filesystem::is_directory(status))
      throw input_error(fmt::format("{}: a directory where lineage writes its report; move it away", path.string()));
    if (!std::filesystem::remove(path, error) && error)
      throw input_error(fmt::format("{}: cannot remove the earlier run's report: {}", path.string(), error.message()));
  }
}

// The output directory as far as the command line and the job file tell it without the rest of
// them being valid (the job file may be what failed), or empty.
std::string output_dir_told(const compare_arguments& arguments) {
  if (arguments.output_dir) return *arguments.output_dir;
  if (!arguments.config_file) return {};
  try {
    const YAML::Node root = YAML::LoadFile(*arguments.config_file);
    if (root.IsMap() && root["output"] && root["output"].IsScalar()) return root["output"].Scalar();
  } catch (const std::exception&) {
  }
  return {};
}

// The job's config. A run whose options are refused leaves no earlier report in the output
// directory it names either: it fails as a whole (docs/SECURITY.md).
compare_config resolve_or_clear_output(const compare_request& request) {
  try {
    return resolve_compare_config(request.arguments);
  } catch (const error&) {
    const std::filesystem::path out = output_dir_told(request.arguments);
    std::error_code ignored;
    if (!out.empty() && std::filesystem::is_directory(out, ignored)) {
      try {
        remove_earlier_reports(out);
      } catch (const error&) {  // the refusal of the options is the error to report
      }
    }
    throw;
  }
}

prepared_job prepare(const communicator& comm, const compare_request& request) {
  prepared_job job;
  job.start_time = utc_now();
  job.config = resolve_or_clear_output(request);
  const std::filesystem::path out = job.config.output_dir;
  ensure_writable_directory(out);
  remove_earlier_reports(out);
  job.plan = plan_comparison(job.config, comm.size(), {}, {true, job.config.sha256_files});
  for (const model_description* model : {&job.plan.model_a, &job.plan.model_b})
    for (model_file_identity& file : model_file_identities(model->files)) job.model_files.push_back(std::move(file));
  // Bad references and panel reports are found now, before hours of work.
  for (const auto& reference : job.config.reference_panel) (void)open_checkpoint(reference);
  for (const auto& report : job.config.panel_reports)
    job.panel.push_back(read_panel_report(report, job.plan.model_a, job.plan.model_b));
  return job;
}

// All files are complete under temporary names before any takes its final name. report.html and
// report.md are rendered from the report.h5 just written, as `lineage report` renders them.
void write_reports(const comparison_report& report, const std::filesystem::path& out) {
  atomic_output h5(out / "report.h5");
  atomic_output json(out / "report.json");
  const std::string json_text = report_json_text(report);
  h5.write(report_h5_image(report, h5.final_path().string(), json_text));
  json.write(json_text);
  rendered_reports rendered(h5.temporary_path(), out);
  h5.commit();
  json.commit();
  rendered.commit();
}

run_manifest make_manifest(const communicator& comm, const compare_request& request, const prepared_job& job) {
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
  return manifest;
}

}  // namespace

int run_compare_job(const communicator& comm, const compare_request& request) {
  // A signal from here on stops the job at the next unit boundary with its finished work saved.
  install_interrupt_handlers();
  // Rank 0 resolves the config, plans the main pair and reads the panel reports.
  prepared_job job;
  outcome prepared;
  if (comm.is_root()) prepared = attempt([&] { job = prepare(comm, request); });
  int status = share_root_status(comm, prepared);
  if (status != static_cast<int>(exit_status::ok)) return status;
  // Every rank runs with rank 0's resolved config (its memory budget, I/O mode, output directory).
  std::string config_text = comm.is_root() ? job.config.to_json().dump() : std::string();
  comm.broadcast(config_text);
  status = agree(comm, attempt([&] {
    if (!comm.is_root()) job.config = compare_config::from_json(nlohmann::json::parse(config_text));
  }));
  if (status != static_cast<int>(exit_status::ok)) return status;
  const saved_work saved(job.config.output_dir);
  if (comm.is_root() && request.no_resume) saved.remove_all();
  progress_settings progress;
  progress.style = parse_progress_style(request.progress, "--progress");
  progress.terminal = ::isatty(STDERR_FILENO) != 0;
  progress.log_every_seconds = request.progress_every;

  // The reference panel's comparisons run first, one after another on all ranks.
  int panel_comparisons = comm.is_root() ? static_cast<int>(2 * job.config.reference_panel.size()) : 0;
  comm.broadcast(panel_comparisons);
  for (int i = 0; i < panel_comparisons; ++i) {
    compare_config config;
    work_plan plan;
    outcome planned;
    if (comm.is_root())
      planned = attempt([&] {
        config = panel_member_config(job.config, static_cast<std::size_t>(i));
        plan = plan_comparison(config, comm.size(), {}, panel_content());
      });
    status = share_root_status(comm, planned);
    if (status != static_cast<int>(exit_status::ok)) return status;
    std::vector<rank_results> per_rank;
    comparison_run run{static_cast<std::size_t>(i), &saved, true, progress, {}};
    run.progress.label = fmt::format("reference panel {} of {}", i + 1, panel_comparisons);
    status = compute_across_ranks(comm, config, plan, per_rank, run);
    if (status != static_cast<int>(exit_status::ok)) return status;
    outcome reduced;
    if (comm.is_root())
      reduced = attempt([&] {
        job.panel.push_back(panel_member(config, static_cast<std::size_t>(i), plan, per_rank));
        std::cout << fmt::format("reference panel: {} against {} compared ({} tensor pairs)\n",
                                 i % 2 == 0 ? "model A" : "model B", printable(config.model_b),
                                 job.panel.back().tensors.size())
                  << std::flush;
      });
    status = share_root_status(comm, reduced);
    if (status != static_cast<int>(exit_status::ok)) return status;
  }

  // The pair itself: every rank computes its share; rank 0 merges in plan order and reports.
  std::vector<rank_results> per_rank;
  comparison_run run{static_cast<std::size_t>(panel_comparisons), &saved, false, progress, {}};
  run.progress.label = "model A vs model B";
  status = compute_across_ranks(comm, job.config, job.plan, per_rank, run);
  if (status != static_cast<int>(exit_status::ok)) return status;
  // Each rank's run facts, for the report's per-rank table.
  const auto timings = comm.gather(serialize_rank_run(run.timing));
  outcome reported;
  if (comm.is_root())
    reported = attempt([&] {
      run_manifest manifest = make_manifest(comm, request, job);
      for (const auto& bytes : timings) manifest.rank_runs.push_back(deserialize_rank_run(bytes));
      const comparison_report report =
          reduce_comparison(job.plan, per_rank, std::move(manifest), {job.config.alpha, job.config.seed, job.panel});
      const std::filesystem::path out = job.config.output_dir;
      check_model_files_unchanged(job.model_files);
      write_reports(report, out);
      saved.remove_all();  // the report holds it all now
      print_terminal_table(report, std::cout);
      std::cout << "report: " << (out / "report.h5").string() << "\n"
                << "report: " << (out / "report.json").string() << "\n"
                << "report: " << (out / "report.html").string() << "\n"
                << "report: " << (out / "report.md").string() << std::endl;
    });
  return share_root_status(comm, reported);
}

}  // namespace lineage
