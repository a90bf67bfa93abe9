// The `lineage` executable: subcommands compare (MPI), tokenizers (vocabulary comparison), plan (the
// work plan from headers alone), report (report.html and report.md from a report.h5), verify (a
// model directory against a report's manifest), synth (model generator), index (a model's fingerprint
// into a registry, MPI) and search (a query against a registry's fingerprints).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

#include "app/compare_command.hpp"
#include "app/index_command.hpp"
#include "app/search_command.hpp"
#include "app/plan_command.hpp"
#include "app/report_command.hpp"
#include "app/tokenizers_command.hpp"
#include "app/verify_command.hpp"
#include "core/error.hpp"
#include "core/resource_usage.hpp"
#include "core/version.hpp"
#include "mpi/communicator.hpp"
#include "app/synth_command.hpp"

namespace {

// Before MPI starts, only the launcher's environment says which rank this process will be (none:
// not started by a launcher).
const char* launcher_rank() {
  for (const char* variable : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"})
    if (const char* value = std::getenv(variable)) return value;
  return nullptr;
}

bool launched_as_rank_zero() {
  const char* rank = launcher_rank();
  return rank == nullptr || std::string(rank) == "0";
}

// A command-line error. Started by a launcher, every rank parsed the same line and fails alike:
// rank 0 alone says what is wrong, and no rank ends before it has, since a launcher that stops the
// job at the first non-zero status (mpirun, srun -K) would kill rank 0 before its line is out.
int usage_error(const CLI::ParseError& e) {
  const std::string line = std::string(e.what()) + " (see lineage --help)";
  if (launcher_rank() == nullptr) {
    lineage::print_error_line(line);
    return static_cast<int>(lineage::exit_status::bad_input);
  }
  const lineage::mpi_session session;
  const lineage::communicator world = session.world();
  if (world.is_root()) lineage::print_error_line(line);
  world.barrier();
  return static_cast<int>(lineage::exit_status::bad_input);
}

std::string joined(int argc, char** argv) {
  std::string text;
  for (int i = 0; i < argc; ++i) text += (i ? " " : "") + std::string(argv[i]);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  lineage::keep_freed_memory();
  CLI::App app{"lineage: were model B's weights derived from model A's? Compares every tensor of two "
               "checkpoints across MPI ranks and reports each similarity beside what unrelated "
               "models score."};
  app.set_version_flag("--version", fmt::format("lineage {} ({})", lineage::tool_version(), lineage::git_hash()));
  app.require_subcommand(1);
  const lineage::command commands[] = {lineage::add_compare_command(app, joined(argc, argv)),
                                       lineage::add_tokenizers_command(app), lineage::add_plan_command(app),
                                       lineage::add_report_command(app), lineage::add_verify_command(app),
                                       lineage::add_synth_command(app), lineage::add_index_command(app),
                                       lineage::add_search_command(app)};
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return launched_as_rank_zero() ? app.exit(e) : 0;  // --help, --version
    return usage_error(e);
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
