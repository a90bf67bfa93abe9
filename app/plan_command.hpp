#pragma once
// `lineage plan A B [--ranks R | --nodes N --ranks-per-node P] [--bandwidth GBPS] [--kernel-gbps X]
// [--block-elements E] [-o plan.json]`: the work plan of a comparison from headers alone (no MPI, no
// tensor bytes). A and B are checkpoint directories or .safetensors files whose data sections may be
// absent (header-only files), or shape lists (checkpoint/shape_list.hpp). Prints pairs, blocks, bytes and
// peak mapped memory per rank, and an estimated time for the given node count.
#include "app/command.hpp"

namespace lineage {

command add_plan_command(CLI::App& parent);

}  // namespace lineage
