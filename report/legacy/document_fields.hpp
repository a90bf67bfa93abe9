#pragma once
// Reading fields of a report document (report.json's JSON) for the renderings, where any field may
// be absent or null (report.json writes non-finite numbers as null) and a rendering shows "–".
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lineage::legacy_document {

using json = nlohmann::json;

// The member `key` of an object, or null.
const json& at(const json& j, const char* key);
// A number, NaN when absent or not a number.
double num(const json& j, const char* key);
double num(const json& j);
// A string, "" when absent or not a string.
std::string str(const json& j, const char* key);
// A boolean, false when absent.
bool flag(const json& j, const char* key);

// "0.9987" (digits after the point), "–" for NaN.
std::string fixed(double v, int digits = 4);
// A p-value: "8e-300", "0.0174", "0", "–".
std::string pval(double p);
// An integer field as text, "–" when absent or null (e.g. the layer of a global tensor).
std::string integer_text(const json& j);

// The manifest's per-rank table (manifest.rank_runs) as rows of cells: rank, host, then seconds of
// matching, blocks, nulls, other units, waiting and in all, GB read, units (resumed), peak
// resident GiB. Empty when the report has none (a report made in one process).
struct rank_run_row {
  std::string cells[10];
};
inline constexpr const char* rank_run_headings[10] = {
    "rank", "host", "matching s", "blocks s", "nulls s", "other s", "waiting s", "total s", "GB read (units, resumed)",
    "peak resident GiB"};
std::vector<rank_run_row> rank_run_rows(const json& manifest);

}  // namespace lineage::legacy_document
