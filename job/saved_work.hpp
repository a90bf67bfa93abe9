#pragma once
// What an interrupted job has finished, kept in <output>/.lineage-resume/ so that the job run again
// (a Slurm requeue, or the same command) skips it. One file per comparison of the job (the
// reference panel's, then the pair's), written by rank 0 only — the other ranks need not see the
// output directory — under a temporary name and renamed.
//
// A saved file is trusted only when every check passes: its magic and format version, its length,
// an XXH3 checksum of its payload, and the job fingerprint (the lineage build, the plan before any
// matching phase, the resolved config, and every model file's path, size and modification time)
// and rank count of the job reading it; then what job/saved_work_check.hpp checks against the plan
// and the model bytes. A file that fails any check is named in a warning and ignored: the work is
// done again, never taken on trust.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "plan/plan.hpp"

namespace lineage {

// One rank's finished work: the first `units_done` of its share_units(), and their results
// (serialize_results). A share with every unit done is complete.
struct saved_share {
  std::uint64_t units_done = 0;
  std::vector<char> results;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & units_done & results;
  }
};

struct saved_comparison {
  std::uint64_t plan_digest = 0;    // of the plan after the matching phases (job/saved_work_check.hpp)
  std::vector<saved_share> shares;  // one per rank, in rank order

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & plan_digest & shares;
  }
};

// The fingerprint of a comparison: XXH3 of the lineage build (version and commit), `initial_plan`
// (serialize_plan of rank 0's first plan), `config_json` and every model file's path, size and
// modification time (a quick first test: the bytes themselves are checked by their hashes). Throws input_error
// naming a model file that cannot be examined.
std::uint64_t comparison_fingerprint(const std::vector<char>& initial_plan, const work_plan& plan,
                                     const std::string& config_json);

class saved_work {
 public:
  // `output_dir`/.lineage-resume holds the files.
  explicit saved_work(const std::filesystem::path& output_dir);

  [[nodiscard]] const std::filesystem::path& directory() const noexcept { return directory_; }
  [[nodiscard]] std::filesystem::path file_of(std::size_t comparison) const;

  // Comparison `comparison`'s saved state when a file exists and passes every check for
  // `fingerprint` and `ranks`. When a file exists but fails one, `rejected` says which file and why.
  [[nodiscard]] std::optional<saved_comparison> load(std::size_t comparison, std::uint64_t fingerprint, int ranks,
                                                     std::string& rejected) const;

  // Writes comparison `comparison`'s state (temporary name, then rename). Throws input_error naming
  // the file when it cannot be written.
  void save(std::size_t comparison, std::uint64_t fingerprint, const saved_comparison& state) const;

  // Removes the directory and everything in it (the job has written its report).
  void remove_all() const;

 private:
  std::filesystem::path directory_;
};

}  // namespace lineage
