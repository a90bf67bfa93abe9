#pragma once
// `lineage search QUERY --registry REGISTRY -o OUT`: a query model (or its fingerprint) against
// every member of a registry; writes OUT/search.json and OUT/search.md. No MPI.
#include "app/command.hpp"

namespace lineage {

command add_search_command(CLI::App& parent);

}  // namespace lineage
