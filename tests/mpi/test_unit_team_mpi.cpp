// A unit computed by all ranks together (shard/unit_team, mpi/rank_team) on 2 and 3 ranks: the
// shares cover the items in whole grains, the hidden-dimension matching (dense, on candidates, and
// with the rotation's cross products) has the bits of one rank's run, and a member whose part fails
// stops every member with its message instead of leaving them waiting.
//
// Every rank runs every collective unconditionally; assertions are non-fatal before the last
// collective of a test so that a failing rank never leaves the others waiting.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "mpi/rank_team.hpp"
#include "shard/block_compute.hpp"
#include "shard/hidden_match.hpp"
#include "shard/hidden_rotation.hpp"
#include "tests/unit/hidden_test_support.hpp"
#include "tests/unit/stats_test_support.hpp"

namespace lineage {
namespace {

communicator world() { return communicator(MPI_COMM_WORLD); }

TEST(UnitTeam, SharesCoverTheItemsInWholeGrains) {
  const communicator comm = world();
  const rank_team team(comm);
  for (const std::size_t count : {std::size_t{0}, std::size_t{5}, std::size_t{64}, std::size_t{1000}, std::size_t{4099}}) {
    const auto [begin, end] = team_share(team, count, 64);
    const auto parts = share_parts(team, [&, b = begin, e = end] { return std::vector<std::uint64_t>{b, e}; });
    std::uint64_t next = 0;
    for (std::size_t m = 0; m < parts.size(); ++m) {
      EXPECT_EQ(parts[m][0], next) << "member " << m << " of " << count;
      EXPECT_LE(parts[m][0], parts[m][1]);
      if (parts[m][1] < count) EXPECT_EQ(parts[m][1] % 64, 0u) << "member " << m << " of " << count;
      next = parts[m][1];
    }
    EXPECT_EQ(next, count);
  }
}

TEST(UnitTeam, AFailingMemberStopsEveryMemberWithItsMessage) {
  const communicator comm = world();
  const rank_team team(comm);
  const int failing = comm.size() - 1;
  try {
    (void)share_parts(team, [&] {
      if (comm.rank() == failing) throw input_error("model.safetensors: truncated");
      return comm.rank();
    });
    ADD_FAILURE() << "rank " << comm.rank() << " went on past a failed part";
  } catch (const error& e) {
    EXPECT_EQ(e.status(), exit_status::bad_input);
    const std::string expected = comm.rank() == failing ? "model.safetensors: truncated"
                                                        : "[rank " + std::to_string(failing) + "] model.safetensors: truncated";
    EXPECT_EQ(std::string(e.what()), expected);
  }
  // Every member is past the failure: a collective after it completes.
  const auto after = share_parts(team, [&] { return comm.rank(); });
  ASSERT_EQ(after.size(), static_cast<std::size_t>(comm.size()));
}

// B's embedding: A's columns in another order with drift, or, `rotated`, A through a random
// orthogonal map (the rotation's cross products and SVDs run then).
std::vector<float> child_of(const std::vector<float>& a, std::size_t rows, std::size_t width, bool rotated,
                            random_stream& stream) {
  if (rotated) return test::rotated_rows(a, rows, width, test::random_orthogonal(width, stream), 0.05, stream);
  std::vector<std::uint32_t> order(width);
  random_permutation(stream, order);
  std::vector<float> b(a.size());
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < width; ++j) b[r * width + j] = a[r * width + order[j]] + static_cast<float>(0.5 * stream.normal());
  return b;
}

// The team's result against one rank's, on an embedding of `rows` × `width` (every rank writes the
// same files in its own directory).
void expect_team_bits(std::size_t rows, std::size_t width, bool rotated) {
  const communicator comm = world();
  const rank_team team(comm);
  test::scratch_directory dir("team");
  random_stream stream(7, "team", std::to_string(width));
  const auto a = test::random_values(rows * width, stream);
  const auto b = child_of(a, rows, width, rotated, stream);
  const auto la = test::write_f32_safetensors(dir.path() / "a.safetensors", {{"embed", {rows, width}, a}});
  const auto lb = test::write_f32_safetensors(dir.path() / "b.safetensors", {{"embed", {rows, width}, b}});
  block_reader reader({dir.path() / "a.safetensors"}, {dir.path() / "b.safetensors"});
  hidden_match_request request = test::embedding_request(la[0], lb[0], rows, rows, width, width);
  request.row_begin = 0;
  request.row_count = rows;
  request.permutations = 20;
  request.seed = 5;
  const int lead = comm.size() - 1;  // not rank 0: the lead is whichever rank the unit was dealt to
  const hidden_match_result together = compute_hidden_match(0, request, reader, team, lead);
  if (comm.rank() != lead) return;
  const hidden_match_result alone = compute_hidden_match(0, request, reader);
  ASSERT_TRUE(alone.usable) << alone.reason;
  EXPECT_EQ(together.by_first, alone.by_first);
  EXPECT_EQ(together.by_second, alone.by_second);
  EXPECT_EQ(together.combined, alone.combined);
  EXPECT_EQ(together.negated, alone.negated);
  EXPECT_EQ(together.spearman, alone.spearman);
  EXPECT_EQ(together.combined_similarity, alone.combined_similarity);
  EXPECT_EQ(together.null, alone.null);
  EXPECT_EQ(together.identity_fit, alone.identity_fit);
  EXPECT_EQ(together.permutation_fit, alone.permutation_fit);
  EXPECT_EQ(together.rotation_fit, alone.rotation_fit);
  EXPECT_EQ(together.rotation, alone.rotation);
  if (rotated) {
    EXPECT_GT(alone.rotation_fit, 0.9);
    EXPECT_EQ(alone.rotation.size(), width * width);
  }
}

TEST(UnitTeam, DenseHiddenMatchHasTheBitsOfOneRank) { expect_team_bits(600, 200, false); }

TEST(UnitTeam, HiddenMatchOnCandidatesHasTheBitsOfOneRank) { expect_team_bits(400, hidden_dense_limit + 90, false); }

TEST(UnitTeam, HiddenRotationHasTheBitsOfOneRank) { expect_team_bits(600, 160, true); }

}  // namespace
}  // namespace lineage
