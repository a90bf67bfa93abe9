#include "mpi/communicator.hpp"

#include <fmt/format.h>

#include <chrono>
#include <climits>
#include <thread>
#include <cstdlib>

namespace lineage {

namespace mpi_detail {
void check(int code, const char* call, const char* file, int line) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw mpi_error(fmt::format("MPI call {} failed at {}:{}: {}", call, file, line,
                              std::string(text, static_cast<std::size_t>(length))));
}
}  // namespace mpi_detail

namespace {
int checked_count(std::size_t bytes, const char* what) {
  if (bytes > static_cast<std::size_t>(INT_MAX))
    throw internal_error(fmt::format("{} of {} bytes exceeds one MPI message", what, bytes));
  return static_cast<int>(bytes);
}

std::size_t total_of(const std::vector<int>& counts) {
  std::size_t total = 0;
  for (const int count : counts) total += static_cast<std::size_t>(count);
  return total;
}

// Where each rank's part starts in the concatenation of all parts (one MPI message at most).
std::vector<int> displacements_of(const std::vector<int>& counts, const char* what) {
  std::vector<int> displacements(counts.size());
  std::size_t total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    displacements[r] = checked_count(total, what);
    total += static_cast<std::size_t>(counts[r]);
  }
  checked_count(total, what);
  return displacements;
}

std::vector<std::vector<char>> split(const std::vector<char>& all, const std::vector<int>& counts,
                                     const std::vector<int>& displacements) {
  std::vector<std::vector<char>> per_rank;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    const auto first = all.begin() + displacements[r];
    per_rank.emplace_back(first, first + counts[r]);
  }
  return per_rank;
}
}  // namespace

communicator::communicator(MPI_Comm comm) : comm_(comm) {
  LINEAGE_MPI_CHECK(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN));
  LINEAGE_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  LINEAGE_MPI_CHECK(MPI_Comm_size(comm_, &size_));
}

void communicator::broadcast(std::vector<char>& bytes) const {
  std::uint64_t length = bytes.size();
  LINEAGE_MPI_CHECK(MPI_Bcast(&length, 1, MPI_UINT64_T, root, comm_));
  if (!is_root()) bytes.resize(length);
  if (length == 0) return;
  LINEAGE_MPI_CHECK(MPI_Bcast(bytes.data(), checked_count(length, "broadcast"), MPI_CHAR, root, comm_));
}

void communicator::broadcast(std::string& text) const {
  std::vector<char> bytes(text.begin(), text.end());
  broadcast(bytes);
  text.assign(bytes.begin(), bytes.end());
}

void communicator::broadcast(int& value) const {
  LINEAGE_MPI_CHECK(MPI_Bcast(&value, 1, MPI_INT, root, comm_));
}

std::vector<std::vector<char>> communicator::gather(const std::vector<char>& mine) const {
  const int my_count = checked_count(mine.size(), "gathered result");
  std::vector<int> counts(is_root() ? static_cast<std::size_t>(size_) : 0);
  LINEAGE_MPI_CHECK(MPI_Gather(&my_count, 1, MPI_INT, counts.data(), 1, MPI_INT, root, comm_));
  const std::vector<int> displacements = displacements_of(counts, "gathered results");
  std::vector<char> all(total_of(counts));
  LINEAGE_MPI_CHECK(MPI_Gatherv(mine.data(), my_count, MPI_CHAR, all.data(), counts.data(),
                                displacements.data(), MPI_CHAR, root, comm_));
  return split(all, counts, displacements);
}

std::vector<std::vector<char>> communicator::all_gather(const std::vector<char>& mine) const {
  const int my_count = checked_count(mine.size(), "exchanged part");
  std::vector<int> counts(static_cast<std::size_t>(size_));
  LINEAGE_MPI_CHECK(MPI_Allgather(&my_count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm_));
  const std::vector<int> displacements = displacements_of(counts, "exchanged parts");
  std::vector<char> all(total_of(counts));
  LINEAGE_MPI_CHECK(MPI_Allgatherv(mine.data(), my_count, MPI_CHAR, all.data(), counts.data(), displacements.data(),
                                   MPI_CHAR, comm_));
  return split(all, counts, displacements);
}

void communicator::gather_doubles(const double* mine, std::size_t count, double* all, std::size_t total, int to) const {
  const int my_count = checked_count(count, "gathered doubles");
  std::vector<int> counts(rank_ == to ? static_cast<std::size_t>(size_) : 0);
  LINEAGE_MPI_CHECK(MPI_Gather(&my_count, 1, MPI_INT, counts.data(), 1, MPI_INT, to, comm_));
  const std::vector<int> displacements = displacements_of(counts, "gathered doubles");
  if (rank_ == to && total_of(counts) != total) throw internal_error("gather_doubles: the parts do not fill the whole");
  LINEAGE_MPI_CHECK(MPI_Gatherv(mine, my_count, MPI_DOUBLE, all, counts.data(), displacements.data(), MPI_DOUBLE,
                                to, comm_));
}

std::vector<char> communicator::scatter(const std::vector<std::vector<char>>& per_rank) const {
  std::vector<int> counts, displacements;
  std::vector<char> all;
  if (is_root()) {
    if (per_rank.size() != static_cast<std::size_t>(size_)) throw internal_error("scatter: one entry per rank needed");
    for (const auto& bytes : per_rank) {
      counts.push_back(checked_count(bytes.size(), "scattered bytes"));
      displacements.push_back(checked_count(all.size(), "scattered bytes"));
      all.insert(all.end(), bytes.begin(), bytes.end());
    }
  }
  int my_count = 0;
  LINEAGE_MPI_CHECK(MPI_Scatter(counts.data(), 1, MPI_INT, &my_count, 1, MPI_INT, root, comm_));
  std::vector<char> mine(static_cast<std::size_t>(my_count));
  LINEAGE_MPI_CHECK(MPI_Scatterv(all.data(), counts.data(), displacements.data(), MPI_CHAR, mine.data(), my_count,
                                 MPI_CHAR, root, comm_));
  return mine;
}

int communicator::max(int value) const {
  int result = value;
  LINEAGE_MPI_CHECK(MPI_Allreduce(&value, &result, 1, MPI_INT, MPI_MAX, comm_));
  return result;
}

std::uint64_t communicator::sum(std::uint64_t value) const {
  std::uint64_t result = value;
  LINEAGE_MPI_CHECK(MPI_Allreduce(&value, &result, 1, MPI_UINT64_T, MPI_SUM, comm_));
  return result;
}

void communicator::barrier() const { LINEAGE_MPI_CHECK(MPI_Barrier(comm_)); }

void communicator::abort(int code) const noexcept { MPI_Abort(comm_, code); std::abort(); }

pending_sum::pending_sum(const communicator& comm, std::vector<std::uint64_t> values)
    : values_(std::move(values)), total_(values_.size()) {
  LINEAGE_MPI_CHECK(MPI_Iallreduce(values_.data(), total_.data(), checked_count(values_.size(), "sum"),
                                   MPI_UINT64_T, MPI_SUM, comm.get(), &request_));
}

pending_sum::~pending_sum() {
  if (!arrived_) MPI_Wait(&request_, MPI_STATUS_IGNORE);
}

bool pending_sum::arrived() {
  if (arrived_) return true;
  int flag = 0;
  LINEAGE_MPI_CHECK(MPI_Test(&request_, &flag, MPI_STATUS_IGNORE));
  arrived_ = flag != 0;
  return arrived_;
}

const std::vector<std::uint64_t>& pending_sum::wait() {
  while (!arrived()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return total_;
}

mpi_session::mpi_session() {
  int provided = 0;
  LINEAGE_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
}

mpi_session::~mpi_session() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace lineage
