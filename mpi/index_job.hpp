#pragma once
// The index job on every rank (`lineage index MODEL -o REGISTRY`): every rank opens the model and
// reads the sampled token rows; the checkpoint files' SHA-256 and the attention layers' sketches are
// dealt round-robin (file i and layer i to rank i mod R); rank 0 gathers the pieces, writes
// REGISTRY/NAME.fingerprint.h5 and adds it to REGISTRY/registry.json. Every piece is one function
// of the bytes, so the file has the same bits for any number of ranks. The failure protocol is
// mpi/failure_protocol.hpp.
#include <filesystem>
#include <string>

#include "mpi/communicator.hpp"
#include "registry/fingerprint_build.hpp"

namespace lineage {

struct index_request {
  std::filesystem::path model;
  std::filesystem::path registry;
  index_options options;
};

// The exit status (0 done, 2 bad input, 1 anything else) on every rank.
int run_index_job(const communicator& comm, const index_request& request);

}  // namespace lineage
