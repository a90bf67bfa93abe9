#include "report/rank_run_rows.hpp"

#include <fmt/format.h>

#include "report/number_text.hpp"

namespace lineage {

std::vector<rank_run_row> rank_run_rows(const std::vector<rank_run>& runs) {
  using number_text::fixed;
  std::vector<rank_run_row> rows;
  for (const rank_run& r : runs) {
    rank_run_row row;
    row.cells[0] = std::to_string(r.rank);
    row.cells[1] = r.host;
    const double seconds[] = {r.seconds_matching, r.seconds_blocks,  r.seconds_nulls,
                              r.seconds_other,    r.seconds_waiting, r.seconds_total};
    for (std::size_t i = 0; i < 6; ++i) row.cells[2 + i] = fixed(seconds[i], 2);
    row.cells[8] = fmt::format("{} ({}, {})", fixed(static_cast<double>(r.bytes_read) / 1e9, 3), r.units,
                               r.units_resumed);
    row.cells[9] = fixed(static_cast<double>(r.peak_resident_bytes) / (1024.0 * 1024.0 * 1024.0), 3);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace lineage
