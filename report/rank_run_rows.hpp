#pragma once
// The manifest's per-rank table (run_manifest::rank_runs) as rows of cells, shared by report.html
// and report.md.
#include <vector>

#include "reduce/report_model.hpp"

namespace lineage {

// Rank, host, then seconds of matching, blocks, nulls, other units, waiting and in all, GB read,
// units (resumed), peak resident GiB. Empty when the report has none (a report made in one process).
struct rank_run_row {
  std::string cells[10];
};
inline constexpr const char* rank_run_headings[10] = {
    "rank", "host", "matching s", "blocks s", "nulls s", "other s", "waiting s", "total s", "GB read (units, resumed)",
    "peak resident GiB"};
std::vector<rank_run_row> rank_run_rows(const std::vector<rank_run>& runs);

}  // namespace lineage
