#pragma once
// A registered subcommand and the action to run when the command line selected it. Shared by every
// area that contributes a subcommand to the `lineage` executable.
#include <CLI/CLI.hpp>

#include <functional>

namespace lineage {

struct command {
  CLI::App* app = nullptr;
  // Runs the subcommand after parsing; returns the exit code or throws a lineage::error.
  std::function<int()> run;
};

}  // namespace lineage
