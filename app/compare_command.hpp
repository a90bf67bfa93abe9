#pragma once
// `lineage compare A B -o DIR [--config FILE]`: the command-line face of compare_job.
#include "app/command.hpp"

namespace lineage {

// Registers "compare" under `parent`; run() starts MPI, runs the job and returns its exit status.
// `command_line` is recorded in the report's manifest.
command add_compare_command(CLI::App& parent, std::string command_line);

}  // namespace lineage
