#pragma once
// The one communicator wrapper of lineage. It does not own the MPI_Comm it wraps (the session
// does), sets MPI_ERRORS_RETURN on it, and turns every failed call into lineage::mpi_error with the
// call, the source location and MPI's own message.
//
// Failure protocol (see compare_job.cpp): ranks never throw across a collective. Each phase ends
// with agree(), an allreduce of the worst local status, so a rank that failed its local work does
// not leave the others waiting in a collective it will never enter.
#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace lineage {

namespace mpi_detail {
void check(int code, const char* call, const char* file, int line);
}
#define LINEAGE_MPI_CHECK(call) ::lineage::mpi_detail::check((call), #call, __FILE__, __LINE__)

class communicator {
 public:
  explicit communicator(MPI_Comm comm);

  [[nodiscard]] int rank() const noexcept { return rank_; }
  [[nodiscard]] int size() const noexcept { return size_; }
  [[nodiscard]] bool is_root() const noexcept { return rank_ == root; }
  [[nodiscard]] MPI_Comm get() const noexcept { return comm_; }

  static constexpr int root = 0;

  // Root's `bytes` replace every other rank's.
  void broadcast(std::vector<char>& bytes) const;
  void broadcast(std::string& text) const;
  void broadcast(int& value) const;
  // Root receives every rank's bytes in rank order; other ranks receive an empty vector.
  [[nodiscard]] std::vector<std::vector<char>> gather(const std::vector<char>& mine) const;
  // Every rank receives every rank's bytes in rank order.
  [[nodiscard]] std::vector<std::vector<char>> all_gather(const std::vector<char>& mine) const;
  // Rank `to` receives every rank's doubles in rank order, concatenated into `all` (sized by it to
  // their total; ignored elsewhere).
  void gather_doubles(const double* mine, std::size_t count, double* all, std::size_t total, int to) const;
  // Rank r receives per_rank[r] of root's `per_rank` (one entry per rank; ignored elsewhere).
  [[nodiscard]] std::vector<char> scatter(const std::vector<std::vector<char>>& per_rank) const;
  // Every rank learns the largest of the values (used to agree on the worst status).
  [[nodiscard]] int max(int value) const;
  [[nodiscard]] std::uint64_t sum(std::uint64_t value) const;
  void barrier() const;
  [[noreturn]] void abort(int code) const noexcept;

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

// A sum over all ranks in flight (MPI_Iallreduce): each rank starts it with its values and goes on
// working, testing between units whether the sum has arrived. Every rank starts the same sequence
// of sums, so they match whatever each rank does in between.
class pending_sum {
 public:
  pending_sum(const communicator& comm, std::vector<std::uint64_t> values);
  pending_sum(const pending_sum&) = delete;
  pending_sum& operator=(const pending_sum&) = delete;
  ~pending_sum();  // waits for a sum still in flight: MPI owns the buffers until then

  // Whether the sum has arrived (MPI_Test); then total() holds it.
  [[nodiscard]] bool arrived();
  // Waits for the sum, testing every millisecond rather than spinning, so that a rank with nothing
  // left to do leaves its core to the ranks still working.
  const std::vector<std::uint64_t>& wait();
  [[nodiscard]] const std::vector<std::uint64_t>& total() const noexcept { return total_; }

 private:
  MPI_Request request_ = MPI_REQUEST_NULL;
  std::vector<std::uint64_t> values_, total_;
  bool arrived_ = false;
};

// MPI_Init_thread / MPI_Finalize for the lifetime of the object (funneled: only the main thread
// calls MPI).
class mpi_session {
 public:
  mpi_session();
  mpi_session(const mpi_session&) = delete;
  mpi_session& operator=(const mpi_session&) = delete;
  ~mpi_session();
  [[nodiscard]] communicator world() const { return communicator(MPI_COMM_WORLD); }
};

}  // namespace lineage
