#pragma once
// The one error hierarchy of lineage. Every failure that reaches the user is one of these; the
// exit status follows from the type: bad input or usage exits 2, anything else exits 1. A job
// stopped by a signal after saving its finished work exits 75 (EX_TEMPFAIL: try again), which
// slurm/compare.sbatch turns into a requeue.
#include <stdexcept>
#include <string>
#include <string_view>

namespace lineage {

// `lineage verify` exits 3 (mismatch) when a model directory is not what a report's manifest
// recorded.
enum class exit_status : int { ok = 0, failure = 1, bad_input = 2, mismatch = 3, interrupted = 75 };

// Base of all lineage errors. Messages are single lines (newlines are folded) because they are
// printed as the one-line diagnosis of a failed job.
class error : public std::runtime_error {
 public:
  explicit error(const std::string& message);
  [[nodiscard]] virtual exit_status status() const noexcept { return exit_status::failure; }
};

// The inputs are wrong: a missing, truncated or lying file, a broken config or index, an
// unwritable output. The message names the file, tensor or key and what is wrong.
class input_error : public error {
 public:
  using error::error;
  [[nodiscard]] exit_status status() const noexcept override { return exit_status::bad_input; }
};

// The command line or job config is wrong.
class usage_error : public input_error {
 public:
  using input_error::input_error;
};

// An MPI call failed (carries MPI's own message).
class mpi_error : public error {
 public:
  using error::error;
};

// An HDF5 call failed while writing or reading a report.
class hdf5_error : public error {
 public:
  using error::error;
};

// A broken invariant inside lineage itself.
class internal_error : public error {
 public:
  using error::error;
};

// Another rank's failure, met by a rank that computed a unit together with it (shard/unit_team.hpp):
// the same status, and the message prefixed with the failing rank.
class relayed_error : public error {
 public:
  relayed_error(exit_status status, const std::string& message) : error(message), status_(status) {}
  [[nodiscard]] exit_status status() const noexcept override { return status_; }

 private:
  exit_status status_;
};

// The one-line diagnosis on stderr: "lineage: error: MESSAGE" (and "lineage: warning: ..."), the
// message through printable() (core/display_text.hpp): it quotes untrusted names and bytes.
void print_error_line(std::string_view message);
void print_warning_line(std::string_view message);

}  // namespace lineage
