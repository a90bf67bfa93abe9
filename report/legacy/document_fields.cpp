#include "report/legacy/document_fields.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace lineage::legacy_document {

const json& at(const json& j, const char* key) {
  static const json null_value;
  if (!j.is_object()) return null_value;
  const auto it = j.find(key);
  return it == j.end() ? null_value : *it;
}

double num(const json& j) { return j.is_number() ? j.get<double>() : std::numeric_limits<double>::quiet_NaN(); }
double num(const json& j, const char* key) { return num(at(j, key)); }

std::string str(const json& j, const char* key) {
  const json& v = at(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

bool flag(const json& j, const char* key) {
  const json& v = at(j, key);
  return v.is_boolean() && v.get<bool>();
}

std::string fixed(double v, int digits) { return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "–"; }

std::string pval(double p) {
  if (!std::isfinite(p)) return "–";
  if (p == 0) return "0";
  return fmt::format("{:.3g}", p);
}

std::string integer_text(const json& j) { return j.is_number_integer() ? std::to_string(j.get<long long>()) : "–"; }

std::vector<rank_run_row> rank_run_rows(const json& manifest) {
  std::vector<rank_run_row> rows;
  const json& runs = at(manifest, "rank_runs");
  if (!runs.is_array()) return rows;
  for (const json& r : runs) {
    rank_run_row row;
    row.cells[0] = integer_text(at(r, "rank"));
    row.cells[1] = str(r, "host");
    const char* seconds[] = {"seconds_matching", "seconds_blocks", "seconds_nulls",
                             "seconds_other",    "seconds_waiting", "seconds_total"};
    for (std::size_t i = 0; i < 6; ++i) row.cells[2 + i] = fixed(num(r, seconds[i]), 2);
    row.cells[8] = fmt::format("{} ({}, {})", fixed(num(r, "bytes_read") / 1e9, 3), integer_text(at(r, "units")),
                               integer_text(at(r, "units_resumed")));
    row.cells[9] = fixed(num(r, "peak_resident_bytes") / (1024.0 * 1024.0 * 1024.0), 3);
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace lineage::legacy_document
