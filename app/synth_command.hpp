#pragma once
// `lineage synth independent|derive`: the command-line face of synth/synth.hpp.
#include "app/command.hpp"

namespace lineage {

// Registers "synth" (with its two subcommands) under `parent`. The returned run() performs the
// selected subcommand after parsing; it returns 0 or throws a lineage::error.
command add_synth_command(CLI::App& parent);

}  // namespace lineage
