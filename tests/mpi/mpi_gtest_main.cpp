// GoogleTest main for MPI test programs (after Ginkgo's): MPI is initialised once, every rank runs
// every test, and rank 0 prints each rank's failures tagged [rank r/size]. The program fails on all
// ranks when any rank failed.
#include <gtest/gtest.h>
#include <mpi.h>

#include <iostream>
#include <string>
#include <vector>

namespace {

// Records failures with the test's name. The name is taken at OnTestStart: asking GoogleTest for
// the current test inside OnTestPartResult takes a mutex GoogleTest already holds there.
class failure_collector : public testing::EmptyTestEventListener {
 public:
  void OnTestStart(const testing::TestInfo& test) override {
    current_ = std::string(test.test_suite_name()) + "." + test.name();
  }
  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (!result.failed()) return;
    failures_ += current_ + " at " + (result.file_name() ? result.file_name() : "?") + ":" +
                 std::to_string(result.line_number()) + ": " + result.summary() + "\n";
  }
  [[nodiscard]] const std::string& failures() const { return failures_; }

 private:
  std::string current_ = "(outside a test)";
  std::string failures_;
};

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  auto& listeners = testing::UnitTest::GetInstance()->listeners();
  if (rank != 0) delete listeners.Release(listeners.default_result_printer());
  auto* collector = new failure_collector;
  listeners.Append(collector);

  const int local = RUN_ALL_TESTS();

  const std::string& mine = collector->failures();
  const int length = static_cast<int>(mine.size());
  std::vector<int> lengths(static_cast<std::size_t>(size));
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::vector<int> offsets(static_cast<std::size_t>(size));
  int total = 0;
  for (int r = 0; r < size; ++r) {
    offsets[static_cast<std::size_t>(r)] = total;
    total += lengths[static_cast<std::size_t>(r)];
  }
  std::string all(static_cast<std::size_t>(rank == 0 ? total : 0), '\0');
  MPI_Gatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR, 0,
              MPI_COMM_WORLD);
  if (rank == 0)
    for (int r = 0; r < size; ++r)
      if (lengths[static_cast<std::size_t>(r)] > 0)
        std::cout << "[rank " << r << "/" << size << "] "
                  << all.substr(static_cast<std::size_t>(offsets[static_cast<std::size_t>(r)]),
                                static_cast<std::size_t>(lengths[static_cast<std::size_t>(r)]));
  int worst = 0;
  MPI_Allreduce(&local, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}
