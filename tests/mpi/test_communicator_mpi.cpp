// The communicator wrapper (mpi/communicator) on 2 and 3 ranks: broadcasts of bytes, strings and
// ints, gathers in rank order with different sizes (empty included), max/sum, a communicator that
// is not MPI_COMM_WORLD, and MPI failures turned into mpi_error.
//
// Every rank runs every collective unconditionally; assertions are non-fatal before the last
// collective of a test so that a failing rank never leaves the others waiting.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "mpi/communicator.hpp"

namespace lineage {
namespace {

communicator world() { return communicator(MPI_COMM_WORLD); }

std::vector<char> pattern(std::size_t size, int seed) {
  std::vector<char> bytes(size);
  for (std::size_t i = 0; i < size; ++i)
    bytes[i] = static_cast<char>((i * 31 + static_cast<std::size_t>(seed) * 7) & 0xFF);
  return bytes;
}

TEST(Communicator, RankAndSizeMatchMpi) {
  int rank = -1, size = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const communicator comm = world();
  EXPECT_EQ(comm.rank(), rank);
  EXPECT_EQ(comm.size(), size);
  EXPECT_EQ(comm.is_root(), rank == 0);
  EXPECT_EQ(comm.get(), MPI_COMM_WORLD);
  EXPECT_GE(size, 2) << "run these tests with mpiexec -n 2 or more";
}

TEST(Communicator, BroadcastsBytesOfAnySize) {
  const communicator comm = world();
  for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{1000}, std::size_t{1} << 20}) {
    // Non-root ranks start with junk of another length, which must be replaced, not merged.
    std::vector<char> bytes =
        comm.is_root() ? pattern(size, 1) : pattern(size + 17 + static_cast<std::size_t>(comm.rank()), 9);
    comm.broadcast(bytes);
    EXPECT_EQ(bytes, pattern(size, 1)) << "size " << size << " on rank " << comm.rank();
  }
}

TEST(Communicator, BroadcastsStringsAndInts) {
  const communicator comm = world();
  std::string text = comm.is_root() ? std::string("plan\0with\nbinary\xff", 17) : std::string("stale text");
  comm.broadcast(text);
  EXPECT_EQ(text, std::string("plan\0with\nbinary\xff", 17));
  std::string empty = comm.is_root() ? "" : "not empty";
  comm.broadcast(empty);
  EXPECT_EQ(empty, "");
  int value = comm.is_root() ? -123456 : comm.rank();
  comm.broadcast(value);
  EXPECT_EQ(value, -123456);
}

TEST(Communicator, GathersInRankOrderWithDifferentSizes) {
  const communicator comm = world();
  // Rank r sends 3r bytes: rank 0 sends nothing.
  const auto mine = pattern(static_cast<std::size_t>(3 * comm.rank()), comm.rank());
  const auto gathered = comm.gather(mine);
  if (comm.is_root()) {
    ASSERT_EQ(gathered.size(), static_cast<std::size_t>(comm.size()));
    for (int r = 0; r < comm.size(); ++r)
      EXPECT_EQ(gathered[static_cast<std::size_t>(r)], pattern(static_cast<std::size_t>(3 * r), r))
          << "rank " << r;
  } else {
    EXPECT_TRUE(gathered.empty());
  }
}

TEST(Communicator, GathersWithAnEmptyRankInTheMiddle) {
  const communicator comm = world();
  const int last = comm.size() - 1;
  // Only the last rank has nothing to say.
  const auto mine = comm.rank() == last ? std::vector<char>{}
                                        : pattern(100 + static_cast<std::size_t>(comm.rank()), comm.rank());
  const auto gathered = comm.gather(mine);
  const auto nothing = comm.gather({});
  if (comm.is_root()) {
    ASSERT_EQ(gathered.size(), static_cast<std::size_t>(comm.size()));
    for (int r = 0; r < comm.size(); ++r) {
      const auto expected = r == last ? std::vector<char>{} : pattern(100 + static_cast<std::size_t>(r), r);
      EXPECT_EQ(gathered[static_cast<std::size_t>(r)], expected) << "rank " << r;
    }
    ASSERT_EQ(nothing.size(), static_cast<std::size_t>(comm.size()));
    for (const auto& bytes : nothing) EXPECT_TRUE(bytes.empty());
  } else {
    EXPECT_TRUE(gathered.empty());
    EXPECT_TRUE(nothing.empty());
  }
}

TEST(Communicator, MaxAndSumAreSeenByEveryRank) {
  const communicator comm = world();
  EXPECT_EQ(comm.max(comm.rank()), comm.size() - 1);
  EXPECT_EQ(comm.max(-comm.rank()), 0);
  // The failure protocol: one rank reports "bad input" (2), another "failure" (1); all agree on 2.
  const int status = comm.rank() == comm.size() - 1 ? 2 : (comm.rank() == 0 ? 1 : 0);
  EXPECT_EQ(comm.max(status), 2);
  EXPECT_EQ(comm.max(0), 0);
  // Sums beyond 32 bits.
  const std::uint64_t big = (std::uint64_t{1} << 40) + static_cast<std::uint64_t>(comm.rank());
  const auto n = static_cast<std::uint64_t>(comm.size());
  EXPECT_EQ(comm.sum(big), (std::uint64_t{1} << 40) * n + n * (n - 1) / 2);
  EXPECT_EQ(comm.sum(0), 0U);
  EXPECT_NO_THROW(comm.barrier());
}

// The wrapper works on whatever communicator it is given (never assumes MPI_COMM_WORLD).
TEST(Communicator, WorksOnASplitCommunicator) {
  const communicator comm = world();
  MPI_Comm odd_even = MPI_COMM_NULL;
  ASSERT_EQ(MPI_Comm_split(MPI_COMM_WORLD, comm.rank() % 2, comm.rank(), &odd_even), MPI_SUCCESS);
  {
    const communicator part(odd_even);
    const int expected_size = (comm.size() + (comm.rank() % 2 == 0 ? 1 : 0)) / 2;
    EXPECT_EQ(part.size(), expected_size);
    EXPECT_EQ(part.rank(), comm.rank() / 2);
    // Each part's root is world rank 0 or 1; its text reaches only its own part.
    std::string text = part.is_root() ? "from world rank " + std::to_string(comm.rank()) : "";
    part.broadcast(text);
    EXPECT_EQ(text, "from world rank " + std::to_string(comm.rank() % 2));
    const auto gathered = part.gather(std::vector<char>(static_cast<std::size_t>(comm.rank()), 'x'));
    if (part.is_root()) {
      ASSERT_EQ(gathered.size(), static_cast<std::size_t>(part.size()));
      for (int r = 0; r < part.size(); ++r)
        EXPECT_EQ(gathered[static_cast<std::size_t>(r)].size(),
                  static_cast<std::size_t>(2 * r + comm.rank() % 2));
    }
    EXPECT_EQ(part.sum(1), static_cast<std::uint64_t>(expected_size));
  }
  MPI_Comm_free(&odd_even);
  comm.barrier();
}

TEST(Communicator, FailedCallsBecomeMpiErrors) {
  try {
    LINEAGE_MPI_CHECK(MPI_ERR_COUNT);
    ADD_FAILURE() << "no exception";
  } catch (const mpi_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("MPI_ERR_COUNT"), std::string::npos) << message;  // the call as written
    EXPECT_NE(message.find("test_communicator_mpi.cpp:"), std::string::npos) << message;
    char mpi_text[MPI_MAX_ERROR_STRING] = {};
    int length = 0;
    MPI_Error_string(MPI_ERR_COUNT, mpi_text, &length);
    EXPECT_NE(message.find(std::string(mpi_text, static_cast<std::size_t>(length))), std::string::npos)
        << message;
    EXPECT_EQ(e.status(), exit_status::failure);
  }
  EXPECT_NO_THROW(LINEAGE_MPI_CHECK(MPI_SUCCESS));
  // A real call that fails locally on every rank (an invalid root) returns instead of aborting,
  // because the wrapper sets MPI_ERRORS_RETURN.
  const communicator comm = world();
  int value = 0;
  EXPECT_THROW(LINEAGE_MPI_CHECK(MPI_Bcast(&value, 1, MPI_INT, comm.size() + 5, comm.get())), mpi_error);
  comm.barrier();
}

TEST(Communicator, ScattersBytesOfDifferentSizesFromRankZero) {
  const communicator comm = world();
  std::vector<std::vector<char>> per_rank;
  if (comm.is_root())
    for (int r = 0; r < comm.size(); ++r) per_rank.push_back(pattern(static_cast<std::size_t>(r) * 1000, r));
  const std::vector<char> mine = comm.scatter(per_rank);
  EXPECT_EQ(mine, pattern(static_cast<std::size_t>(comm.rank()) * 1000, comm.rank()));
}

TEST(Communicator, PendingSumsArriveOnEveryRankWithTheSameTotals) {
  const communicator comm = world();
  const auto r = static_cast<std::uint64_t>(comm.rank());
  const auto n = static_cast<std::uint64_t>(comm.size());
  for (int round = 0; round < 50; ++round) {
    pending_sum sum(comm, {r, 1, r * r + static_cast<std::uint64_t>(round)});
    // Polling as the statistics rounds do: work between tests, then wait.
    for (int polls = 0; polls < 3 && !sum.arrived(); ++polls) {
    }
    const std::vector<std::uint64_t>& total = sum.wait();
    ASSERT_EQ(total.size(), 3u);
    EXPECT_EQ(total[0], n * (n - 1) / 2);
    EXPECT_EQ(total[1], n);
    EXPECT_EQ(total[2], (n - 1) * n * (2 * n - 1) / 6 + n * static_cast<std::uint64_t>(round));
    EXPECT_TRUE(sum.arrived());
  }
  // A sum abandoned before it arrived is completed by its destructor, never left in flight.
  { pending_sum dropped(comm, {1}); }
  EXPECT_EQ(comm.sum(std::uint64_t{1}), n);
}

}  // namespace
}  // namespace lineage
