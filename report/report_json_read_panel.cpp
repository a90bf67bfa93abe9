// report.json's "fingerprints" and "reference_panel" read back (report/report_json_read.hpp).
#include <fmt/format.h>

#include "report/report_json_read_parts.hpp"

namespace lineage::json_read {
namespace {

// More tensor pairs than the comparisons of a panel of real checkpoints have together: the counts
// size allocations (panel_comparison::tensors), so a document cannot ask for more.
constexpr std::uint64_t most_panel_tensor_pairs = std::uint64_t{1} << 22;

tensor_fingerprint read_side(const json_field& object) {
  tensor_fingerprint f;
  f.finite = object["finite"].flag();
  f.elements = object["elements"].integer<std::uint64_t>();
  f.mean = object["mean"].number();
  f.sd = object["sd"].number();
  f.frobenius = object["frobenius"].number();
  const json_field spectrum = object["spectrum"];
  f.spectrum = spectrum.numbers();
  if (f.spectrum.size() > fingerprint_singular_values)
    spectrum.fail(fmt::format("{} singular values (at most {})", f.spectrum.size(), fingerprint_singular_values));
  return f;
}

fingerprint_test read_test(const json_field& object) {
  fingerprint_test t;
  t.available = object["available"].flag();
  t.reason = object["reason"].text();
  if (!t.available) return t;
  t.roles = object["roles"].texts();
  t.layers = object["layers"].integers<std::int32_t>();
  t.series = object["series"].integer<std::size_t>();
  t.statistic = object["statistic"].number();
  const json_field null = object["null"];
  t.null = null.numbers();
  if (t.layers.empty() || t.null.size() != t.layers.size() - 1)
    null.fail(fmt::format("{} shifts for {} layers (expected one fewer)", t.null.size(), t.layers.size()));
  t.z = object["z"].number();
  t.p_value = object["p_value"].number();
  return t;
}

panel_role_figures read_panel_role(const json_field& row) {
  panel_role_figures r;
  r.role = row["role"].text();
  r.layers = row["tensor_pairs"].integer<std::size_t>();
  r.pearson = row["pearson"].number();
  r.cosine = row["cosine"].number();
  r.panel_pearson = row["panel_pearson"].numbers();
  const json_field cosine = row["panel_cosine"];
  r.panel_cosine = cosine.numbers();
  if (r.panel_cosine.size() != r.panel_pearson.size())
    cosine.fail(fmt::format("{} entries for {} in panel_pearson (expected as many)", r.panel_cosine.size(),
                            r.panel_pearson.size()));
  r.panel_pearson_mean = row["panel_pearson_mean"].number();
  r.panel_pearson_sd = row["panel_pearson_sd"].number();
  r.panel_pearson_max = row["panel_pearson_max"].number();
  r.panel_cosine_mean = row["panel_cosine_mean"].number();
  r.panel_cosine_max = row["panel_cosine_max"].number();
  r.z = row["z"].number();
  r.p_value = row["p_value"].number();
  return r;
}

}  // namespace

fingerprint_figures fingerprints(const json_field& object) {
  fingerprint_figures f;
  const json_field pairs = object["pairs"];
  f.pairs.resize(pairs.size());
  for (std::size_t i = 0; i < f.pairs.size(); ++i) {
    const json_field row = pairs[i];
    fingerprint_pair_figures& p = f.pairs[i];
    p.layer = row["layer"].integer<std::int32_t>();
    p.role = row["role"].text();
    p.name_a = row["name_a"].text();
    p.name_b = row["name_b"].text();
    p.shape_a = row["shape_a"].integers<std::uint64_t>();
    p.shape_b = row["shape_b"].integers<std::uint64_t>();
    p.a = read_side(row["a"]);
    p.b = read_side(row["b"]);
  }
  f.test = read_test(object["test"]);
  return f;
}

panel_figures panel(const json_field& object) {
  panel_figures panel;
  const json_field comparisons = object["comparisons"];
  panel.comparisons.resize(comparisons.size());
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < panel.comparisons.size(); ++i) {
    const json_field row = comparisons[i];
    panel_comparison& c = panel.comparisons[i];
    c.side = side(row["side"]);
    c.reference = row["reference"].text();
    c.source = row["source"].text();
    const json_field count = row["tensor_pairs"];
    const auto pairs = count.integer<std::uint64_t>();
    if (pairs > most_panel_tensor_pairs - total)
      count.fail(fmt::format("{} tensor pairs: more than the {} all panel comparisons of a report may have together",
                             pairs, most_panel_tensor_pairs));
    total += pairs;
    c.tensors.resize(pairs);
  }
  const json_field roles = object["roles"];
  panel.roles.resize(roles.size());
  for (std::size_t i = 0; i < panel.roles.size(); ++i) {
    const json_field row = roles[i];
    panel.roles[i] = read_panel_role(row);
    const json_field pearson = row["panel_pearson"];
    if (panel.roles[i].panel_pearson.size() > panel.comparisons.size())
      pearson.fail(fmt::format("{} entries for {} panel comparisons", pearson.size(), panel.comparisons.size()));
  }
  return panel;
}

}  // namespace lineage::json_read
