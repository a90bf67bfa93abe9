// report.json's "verdict", "families" and "layers" read back (report/report_json_read.hpp).
#include "report/report_json_read_parts.hpp"

namespace lineage::json_read {
namespace {

group_evidence read_group(const json_field& row, bool family) {
  group_evidence g;
  g.name = row["name"].text();
  g.tensors = row["tensors"].integer<std::size_t>();
  g.unit = row["unit"].text();
  g.p = row["p"].number();
  g.method = row["method"].text();
  const json_field fisher = row["fisher"], harmonic = row["harmonic_mean"];
  g.fisher.statistic = fisher["statistic"].number();
  g.fisher.p = fisher["p"].number();
  g.harmonic.statistic = harmonic["hmp"].number();
  g.harmonic.p = harmonic["p"].number();
  g.median_pearson = row["median_pearson"].number();
  g.mean_cosine = row["mean_cosine"].number();
  g.mean_null_cosine = row["mean_null_cosine"].number();
  g.min_p = row["min_p"].number();
  g.strongest = row["strongest"].text();
  g.strongest_pearson = row["strongest_pearson"].number();
  g.strongest_z = row["strongest_z"].number();
  if (family) {
    g.descriptive = row["descriptive"].flag();
    g.adjusted_p = row["holm_sidak_p"].number();
    g.significant = row["significant"].flag();
  } else {
    g.layer = row["layer"].optional_index();
  }
  return g;
}

}  // namespace

verdict_report verdict(const json_field& object) {
  verdict_report v;
  v.label = object["label"].text();
  v.p_global = object["p_global"].number();
  v.p_floor = object["p_floor"].number();
  v.units = object["units"].integer<std::size_t>();
  v.alpha = object["alpha"].number();
  v.evidence = object["evidence"].texts();
  v.notes = object["notes"].texts();
  v.carried_by = object["carried_by"].texts();
  v.invariances_tested = object["invariances_tested"].texts();
  v.invariances_not_tested = object["invariances_not_tested"].texts();
  return v;
}

std::vector<group_evidence> groups(const json_field& rows, bool families) {
  std::vector<group_evidence> out(rows.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = read_group(rows[i], families);
  return out;
}

}  // namespace lineage::json_read
