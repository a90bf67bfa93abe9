// The `lineage` executable: subcommands compare (MPI), tokenizers (vocabulary comparison), plan (the
// work plan from headers alone), report (report.html and report.md from a report.h5), verify (a
// model directory against a report's manifest) and synth (model generator).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

#include "core/error.hpp"
#include "core/version.hpp"
#include "mpi/compare_command.hpp"
#include "mpi/plan_command.hpp"
#include "mpi/report_command.hpp"
#include "mpi/tokenizers_command.hpp"
#include "mpi/verify_command.hpp"
#include "synth/synth_command.hpp"

namespace {

// Before MPI starts, only the launcher's environment says which rank this process will be; usage
// errors are printed by rank 0 alone instead of once per rank.
bool launched_as_rank_zero() {
  for (const char* variable : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* value = std::getenv(variable)) return std::string(value) == "0";
  return true;
}

std::string joined(int argc, char** argv) {
  std::string text;
  for (int i = 0; i < argc; ++i) text += (i ? " " : "") + std::string(argv[i]);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"lineage: were model B's weights derived from model A's? Compares every tensor of two "
               "checkpoints across MPI ranks and reports each similarity beside what unrelated "
               "models score."};
  app.set_version_flag("--version", fmt::format("lineage {} ({})", lineage::tool_version(), lineage::git_hash()));
  app.require_subcommand(1);
  const lineage::command commands[] = {lineage::add_compare_command(app, joined(argc, argv)),
                                       lineage::add_tokenizers_command(app), lineage::add_plan_command(app),
                                       lineage::add_report_command(app), lineage::add_verify_command(app),
                                       lineage::add_synth_command(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return launched_as_rank_zero() ? app.exit(e) : 0;  // --help, --version
    if (launched_as_rank_zero())
      lineage::print_error_line(std::string(e.what()) + " (see lineage --help)");
    return static_cast<int>(lineage::exit_status::bad_input);
  }
  for (const auto& command : commands) {
    if (!command.app->parsed()) continue;
    try {
      return command.run();
    } catch (const lineage::error& e) {
      lineage::print_error_line(e.what());
      return static_cast<int>(e.status());
    } catch (const std::exception& e) {
      lineage::print_error_line(std::string("unexpected failure: ") + e.what());
      return static_cast<int>(lineage::exit_status::failure);
    }
  }
  return static_cast<int>(lineage::exit_status::bad_input);
}
