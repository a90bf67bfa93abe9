#pragma once
// `lineage search --compare-top K`: the full comparison of the query with each of the first K
// candidates whose weights are at hand (the model directory the registry recorded when it indexed
// the member), into OUT/compare/NAME/. Run here, as a one-rank MPI job each; with `--slurm`, written
// instead as job files (OUT/compare/NAME.yaml) and OUT/compare-top.sbatch, a job array over them
// (sbatch --array=0-(N-1) OUT/compare-top.sbatch, through slurm/compare.sbatch).
#include <cstddef>
#include <filesystem>
#include <vector>

#include "registry/search.hpp"

namespace lineage {

struct compare_top_request {
  std::size_t count = 0;
  bool slurm = false;
  std::filesystem::path output;  // the search's output directory
  std::filesystem::path query;   // the query as given
  bool query_has_weights = false;
};

[[nodiscard]] std::vector<compare_run> compare_top(const search_result& result, const compare_top_request& request);

}  // namespace lineage
