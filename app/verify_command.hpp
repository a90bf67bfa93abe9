#pragma once
// `lineage verify --manifest report.h5 MODEL [--side a|b]`: is MODEL (a model directory or a
// .safetensors file) the model a report was computed from? Hashes every range the manifest
// recorded again, and compares tensor names, dtypes, shapes, digests and the recorded files (their
// SHA-256 when the job had --sha256). Prints one line per difference and a summary; exits 0 when
// everything matches, 3 (exit_status::mismatch) when something differs, 2 on unreadable or
// malformed input. No MPI needed.
#include "app/command.hpp"

namespace lineage {

command add_verify_command(CLI::App& parent);

}  // namespace lineage
