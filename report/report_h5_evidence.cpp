// The permutation nulls and the evidence in report.h5 (layout: docs/HDF5_SCHEMA.md).
#include <cmath>

#include "report/h5_columns.hpp"

namespace lineage {

void write_null_columns(const h5_group& group, const std::vector<tensor_result>& rows) {
  using row = tensor_result;
  using i64 = std::int64_t;
  group.write_column("p_value", column(rows, [](const row& r) { return r.null.available ? r.null.p_value : NAN; }));
  group.write_column("null_available", column(rows, [](const row& r) -> i64 { return r.null.available; }));
  group.write_column("null_reason", column(rows, [](const row& r) { return r.null.reason; }));
  group.write_column("null_unit", column(rows, [](const row& r) { return r.null.unit; }));
  group.write_column("test_unit", column(rows, [](const row& r) { return r.null.test_unit; }));
  group.write_column("axes", column(rows, [](const row& r) { return axes_text(r.pair.axes); }));
  group.write_column("null_permutations", column(rows, [](const row& r) -> i64 { return r.null.permutations; }));
  group.write_column("null_beyond_all", column(rows, [](const row& r) -> i64 { return r.null.beyond_all; }));
  group.write_column("closed_form_disagrees",
                     column(rows, [](const row& r) -> i64 { return r.null.closed_form_disagrees; }));
  group.write_column("null_subset", column(rows, [](const row& r) -> i64 { return r.null.subset; }));
  group.write_column("null_tested_units", column(rows, [](const row& r) -> std::uint64_t { return r.null.tested_units; }));
  group.write_column("null_tested_pearson", column(rows, [](const row& r) { return r.null.tested_pearson; }));
  // Row directions (matrices; NaN elsewhere).
  const auto direction = [](double null_figures::*field) {
    return [field](const row& r) { return r.null.available && r.null.directions ? r.null.*field : NAN; };
  };
  group.write_column("direction_cosine", column(rows, direction(&null_figures::direction_cosine)));
  group.write_column("direction_z", column(rows, direction(&null_figures::direction_z)));
  group.write_column("direction_p", column(rows, direction(&null_figures::direction_p)));
  group.write_column("direction_folded", column(rows, [](const row& r) -> i64 { return r.null.folded; }));
  group.write_column("null_test", column(rows, [](const row& r) { return r.null.test; }));
  group.write_column("test_observed", column(rows, [](const row& r) { return r.null.test_observed; }));
  const auto when_available = [](double (*get)(const null_figures&)) {
    return [get](const row& r) { return r.null.available ? get(r.null) : NAN; };
  };
  const std::pair<const char*, double (*)(const null_figures&)> figures[] = {
      {"p_permutation", [](const null_figures& f) { return f.p_permutation; }},
      {"log10_p_value", [](const null_figures& f) { return f.log10_p_value; }},
      {"z", [](const null_figures& f) { return f.z; }},
      {"p_floor", [](const null_figures& f) { return f.p_floor; }},
      {"null_sd_ratio", [](const null_figures& f) { return f.null_sd_ratio; }},
  };
  for (const auto& [name, get] : figures) group.write_column(name, column(rows, when_available(get)));
  group.write_column("closed_z", column(rows, [](const row& r) { return r.null.closed_z; }));
  group.write_column("closed_p", column(rows, [](const row& r) { return r.null.closed_p; }));
  const std::pair<const char*, const statistic_null null_figures::*> statistics[] = {
      {"cosine", &null_figures::cosine}, {"pearson", &null_figures::pearson}, {"rel_l2", &null_figures::rel_l2}};
  const std::pair<const char*, double statistic_null::*> parts[] = {
      {"mean", &statistic_null::mean}, {"sd", &statistic_null::sd},   {"q01", &statistic_null::q01},
      {"q50", &statistic_null::q50},   {"q99", &statistic_null::q99}, {"min", &statistic_null::min},
      {"max", &statistic_null::max}};
  for (const auto& [statistic, member] : statistics)
    for (const auto& [part, field] : parts) {
      // Init-captures: clang 14 (the sanitizer build) cannot capture structured bindings.
      group.write_column(fmt::format("null_{}_{}", statistic, part),
                         column(rows, [member = member, field = field](const row& r) {
                           return r.null.available ? (r.null.*member).*field : NAN;
                         }));
    }
}

// Every null sample: flat columns, pair p's samples at [offsets[p], offsets[p+1]).
void write_null_samples(const h5_group& root, const comparison_report& report) {
  const h5_group group = root.create_group("nulls");
  std::vector<std::uint64_t> offsets{0};
  std::vector<double> cosine, pearson, rel_l2, direction, test;
  for (const auto& t : report.tensors) {
    // The test statistic's own draws (D or T), which the units combine.
    if (t.null.test_samples.size() == t.null.cosine_samples.size())
      test.insert(test.end(), t.null.test_samples.begin(), t.null.test_samples.end());
    else
      test.insert(test.end(), t.null.cosine_samples.size(), NAN);
    // Row directions beside each matrix's samples (NaN where the null has none).
    if (t.null.direction_samples.size() == t.null.cosine_samples.size())
      direction.insert(direction.end(), t.null.direction_samples.begin(), t.null.direction_samples.end());
    else
      direction.insert(direction.end(), t.null.cosine_samples.size(), NAN);
    cosine.insert(cosine.end(), t.null.cosine_samples.begin(), t.null.cosine_samples.end());
    pearson.insert(pearson.end(), t.null.pearson_samples.begin(), t.null.pearson_samples.end());
    rel_l2.insert(rel_l2.end(), t.null.rel_l2_samples.begin(), t.null.rel_l2_samples.end());
    offsets.push_back(cosine.size());
  }
  group.write_column("offsets", std::span<const std::uint64_t>(offsets));
  group.write_column("cosine", std::span<const double>(cosine));
  group.write_column("pearson", std::span<const double>(pearson));
  group.write_column("rel_l2", std::span<const double>(rel_l2));
  group.write_column("direction", std::span<const double>(direction));
  group.write_column("test", std::span<const double>(test));
}

void write_groups(const h5_group& group, const std::vector<group_evidence>& rows, bool family) {
  using row = group_evidence;
  group.write_column("name", column(rows, [](const row& r) { return r.name; }));
  group.write_column("tensors", column(rows, [](const row& r) -> std::uint64_t { return r.tensors; }));
  group.write_column("unit", column(rows, [](const row& r) { return r.unit; }));
  group.write_column("p", column(rows, [](const row& r) { return r.p; }));
  group.write_column("method", column(rows, [](const row& r) { return r.method; }));
  group.write_column("fisher_statistic", column(rows, [](const row& r) { return r.fisher.statistic; }));
  group.write_column("fisher_p", column(rows, [](const row& r) { return r.fisher.p; }));
  group.write_column("hmp", column(rows, [](const row& r) { return r.harmonic.statistic; }));
  group.write_column("hmp_p", column(rows, [](const row& r) { return r.harmonic.p; }));
  group.write_column("median_pearson", column(rows, [](const row& r) { return r.median_pearson; }));
  group.write_column("mean_cosine", column(rows, [](const row& r) { return r.mean_cosine; }));
  group.write_column("mean_null_cosine", column(rows, [](const row& r) { return r.mean_null_cosine; }));
  group.write_column("min_p", column(rows, [](const row& r) { return r.min_p; }));
  group.write_column("strongest", column(rows, [](const row& r) { return r.strongest; }));
  group.write_column("strongest_pearson", column(rows, [](const row& r) { return r.strongest_pearson; }));
  group.write_column("strongest_z", column(rows, [](const row& r) { return r.strongest_z; }));
  if (family) {
    group.write_column("descriptive", column(rows, [](const row& r) -> std::int64_t { return r.descriptive; }));
    group.write_column("holm_sidak_p", column(rows, [](const row& r) { return r.adjusted_p; }));
    group.write_column("significant", column(rows, [](const row& r) -> std::int64_t { return r.significant; }));
  } else {
    group.write_column("layer", column(rows, [](const row& r) -> std::int64_t { return r.layer; }));
  }
}

// The test units, one row each (docs/HDF5_SCHEMA.md, /units).
void write_units(const h5_group& root, const std::vector<unit_figures>& rows) {
  using row = unit_figures;
  using i64 = std::int64_t;
  const h5_group group = root.create_group("units");
  group.write_column("kind", column(rows, [](const row& r) { return r.kind; }));
  group.write_column("label", column(rows, [](const row& r) { return r.label; }));
  group.write_column("layer", column(rows, [](const row& r) -> i64 { return r.layer; }));
  group.write_column("group", column(rows, [](const row& r) { return r.group; }));
  group.write_column("log10_group_size", column(rows, [](const row& r) { return r.log10_group_size; }));
  group.write_column("permutations", column(rows, [](const row& r) -> i64 { return r.permutations; }));
  group.write_column("from_products", column(rows, [](const row& r) -> i64 { return r.from_products; }));
  group.write_column("members", column(rows, [](const row& r) -> std::uint64_t { return r.members; }));
  group.write_column("used", column(rows, [](const row& r) -> std::uint64_t { return r.used; }));
  group.write_column("available", column(rows, [](const row& r) -> i64 { return r.available; }));
  group.write_column("reason", column(rows, [](const row& r) { return r.reason; }));
  group.write_column("statistic", column(rows, [](const row& r) { return r.available ? r.statistic : NAN; }));
  group.write_column("z", column(rows, [](const row& r) { return r.available ? r.z : NAN; }));
  group.write_column("p", column(rows, [](const row& r) { return r.available ? r.p : NAN; }));
  group.write_column("p_floor", column(rows, [](const row& r) { return r.p_floor; }));
  group.write_column("strongest", column(rows, [](const row& r) { return r.strongest; }));
  group.write_column("strongest_z", column(rows, [](const row& r) { return r.strongest_z; }));
  std::vector<std::string> left_out;
  for (const auto& r : rows) {
    std::string joined;
    for (const auto& l : r.left_out) joined += (joined.empty() ? "" : "; ") + l;
    left_out.push_back(joined);
  }
  group.write_column("left_out", left_out);
}

void write_evidence(const h5_group& root, const comparison_report& report) {
  write_units(root, report.units);
  const h5_group group = root.create_group("evidence");
  write_groups(group.create_group("families"), report.evidence.families, true);
  write_groups(group.create_group("layers"), report.evidence.layers, false);
  const auto& v = report.evidence.verdict;
  const h5_group verdict = root.create_group("verdict");
  verdict.set_attribute("label", v.label);
  verdict.set_attribute("p_global", v.p_global);
  verdict.set_attribute("p_floor", v.p_floor);
  verdict.set_attribute("units", static_cast<std::int64_t>(v.units));
  verdict.set_attribute("alpha", v.alpha);
  verdict.write_column("evidence", v.evidence);
  verdict.write_column("notes", v.notes);
  verdict.write_column("carried_by", v.carried_by);
  verdict.write_column("invariances_tested", v.invariances_tested);
  verdict.write_column("invariances_not_tested", v.invariances_not_tested);
}

}  // namespace lineage
