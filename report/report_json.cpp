#include <cmath>

#include <nlohmann/json.hpp>

#include "core/content_hash.hpp"

#include "report/report_tokenizers.hpp"
#include "report/report_writers.hpp"

namespace lineage {
namespace {

using nlohmann::json;

// JSON has no NaN: undefined figures are null.
json number(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }
json optional_index(int value) { return value < 0 ? json(nullptr) : json(value); }

json figures_json(const pair_moments& m, const similarity& s) {
  return {
      {"elements", m.elements},
      {"n", m.count},
      {"cosine", number(s.cosine)},
      {"pearson", number(s.pearson)},
      {"rel_l2", number(s.rel_l2)},
      {"norm_ratio", number(s.norm_ratio)},
      {"bitwise_equal_fraction", number(s.bitwise_equal_fraction)},
      {"nonfinite_a", m.nonfinite_a},
      {"nonfinite_b", m.nonfinite_b},
      {"stats_a", {{"mean", number(s.mean_a)}, {"std", number(s.std_a)}, {"cv", number(s.cv_a)},
             {"min", number(m.min_a)}, {"max", number(m.max_a)}}},
      {"stats_b", {{"mean", number(s.mean_b)}, {"std", number(s.std_b)}, {"cv", number(s.cv_b)},
             {"min", number(m.min_b)}, {"max", number(m.max_b)}}},
  };
}

json null_json(const null_figures& f) {
  json out = {{"available", f.available}};
  if (!f.available) {
    out["reason"] = f.reason;
  } else {
    const auto summary = [](const statistic_null& s) {
      return json{{"mean", number(s.mean)}, {"sd", number(s.sd)}, {"q01", number(s.q01)},
                  {"q50", number(s.q50)},   {"q99", number(s.q99)}, {"min", number(s.min)},
                  {"max", number(s.max)}};
    };
    out.update({{"permutations", f.permutations},
                {"unit", f.unit},
                {"test_unit", f.test_unit},
                {"p_floor", number(f.p_floor)},
                {"cosine", summary(f.cosine)},
                {"pearson", summary(f.pearson)},
                {"rel_l2", summary(f.rel_l2)},
                {"p_permutation", number(f.p_permutation)},
                {"log10_p_value", number(f.log10_p_value)},
                {"z", number(f.z)},
                {"beyond_all", f.beyond_all},
                {"subset", f.subset}});
    out["test"] = f.test;
    out["test_observed"] = number(f.test_observed);
    if (f.directions)
      out["directions"] = {{"folded", f.folded},
                           {"cosine", number(f.direction_cosine)},
                           {"null", summary(f.direction_null)},
                           {"z", number(f.direction_z)},
                           {"p_value", number(f.direction_p)},
                           {"products_p_value", number(f.products_p_value)},
                           {"products_z", number(f.products_z)}};
    if (f.subset)
      out.update({{"tested_units", f.tested_units},
                  {"tested_cosine", number(f.tested_cosine)},
                  {"tested_pearson", number(f.tested_pearson)}});
  }
  out.update({{"closed_form", {{"z", number(f.closed_z)},
                               {"p", number(f.closed_p)},
                               {"null_sd_ratio", f.available ? number(f.null_sd_ratio) : json(nullptr)},
                               {"disagrees", f.closed_form_disagrees}}}});
  return out;
}

json unit_json(const unit_figures& u) {
  return {{"kind", u.kind},
          {"label", u.label},
          {"layer", optional_index(u.layer)},
          {"group", u.group},
          {"group_spec",
           {{"form", group_form_name(u.spec.kind)},
            {"units", u.spec.units},
            {"kv_heads", u.spec.kv_heads},
            {"group", u.spec.group},
            {"within", u.spec.within}}},
          {"log10_group_size", number(u.log10_group_size)},
          {"permutations", u.permutations},
          {"from_products", u.from_products},
          {"members", u.members},
          {"used", u.used},
          {"available", u.available},
          {"reason", u.reason},
          {"statistic", u.available ? number(u.statistic) : json(nullptr)},
          {"z", u.available ? number(u.z) : json(nullptr)},
          {"p", u.available ? number(u.p) : json(nullptr)},
          {"p_floor", number(u.p_floor)},
          {"strongest", u.strongest},
          {"strongest_z", number(u.strongest_z)},
          {"left_out", u.left_out}};
}

json group_json(const group_evidence& g, bool family) {
  json out = {{"name", g.name},
              {"tensors", g.tensors},
              {"unit", g.unit},
              {"p", number(g.p)},
              {"method", g.method},
              {"fisher", {{"statistic", number(g.fisher.statistic)}, {"p", number(g.fisher.p)}}},
              {"harmonic_mean", {{"hmp", number(g.harmonic.statistic)}, {"p", number(g.harmonic.p)}}},
              {"median_pearson", number(g.median_pearson)},
              {"mean_cosine", number(g.mean_cosine)},
              {"mean_null_cosine", number(g.mean_null_cosine)},
              {"min_p", number(g.min_p)},
              {"strongest", g.strongest},
              {"strongest_pearson", number(g.strongest_pearson)},
              {"strongest_z", number(g.strongest_z)}};
  if (family) {
    out["descriptive"] = g.descriptive;
    out["holm_sidak_p"] = number(g.adjusted_p);
    out["significant"] = g.significant;
  } else {
    out["layer"] = optional_index(g.layer);
  }
  return out;
}

// A row-major rows × columns matrix as nested arrays (null for undefined entries).
json matrix_json(const std::vector<double>& values, std::size_t columns) {
  json rows = json::array();
  for (std::size_t start = 0; columns > 0 && start < values.size(); start += columns) {
    json row = json::array();
    for (std::size_t j = 0; j < columns; ++j) row.push_back(number(values[start + j]));
    rows.push_back(std::move(row));
  }
  return rows;
}

json layer_structure_json(const comparison_report& report) {
  json roles = json::array();
  for (const auto& f : report.cross_layers)
    roles.push_back({{"role", f.role},
                     {"available", f.available},
                     {"reason", f.reason},
                     {"layers_a", f.layers_a},
                     {"layers_b", f.layers_b},
                     {"sample_elements", f.sample_elements},
                     {"common_layers", f.common},
                     {"diagonal_mean", number(f.diagonal_mean)},
                     {"off_diagonal_mean", number(f.off_diagonal_mean)},
                     {"off_diagonal_sd", number(f.off_diagonal_sd)},
                     {"permutations", f.permutations},
                     {"z", number(f.z)},
                     {"p_value", number(f.p_value)},
                     {"diagonal_rank_p", f.diagonal_rank_p},
                     {"pearson", matrix_json(f.pearson, f.layers_b.size())},
                     {"cosine", matrix_json(f.cosine, f.layers_b.size())}});
  const auto& d = report.depth;
  const json depth = {{"available", d.available},
                      {"reason", d.reason},
                      {"layers_a", d.layers_a},
                      {"layers_b", d.layers_b},
                      {"matched_a", d.matched_a},
                      {"score", number(d.score)},
                      {"z", number(d.z)},
                      {"p_value", number(d.p_value)},
                      {"permutations", d.permutations},
                      {"is_identity", d.is_identity},
                      {"skipped_a", d.skipped_a},
                      {"repeated", d.repeated},
                      {"similarity", matrix_json(d.similarity, d.layers_b.size())}};
  return {{"cross_layer", std::move(roles)}, {"depth_alignment", depth}};
}

json expert_matching_json(const comparison_report& report) {
  json layers = json::array();
  for (const auto& m : report.expert_matching) {
    json row = {{"layer", m.layer},
                {"mtp", m.mtp},
                {"available", m.available},
                {"reason", m.reason},
                {"roles", m.roles},
                {"sample_elements", m.sample_elements},
                {"experts_a", m.experts_a},
                {"experts_b", m.experts_b}};
    if (m.available)
      row.update({{"matched_b", m.matched_b},
                  {"score", number(m.score)},
                  {"identity_score", number(m.identity_score)},
                  {"permutations", m.permutations},
                  {"null", {{"mean", number(m.null.mean)}, {"sd", number(m.null.sd)}, {"q01", number(m.null.q01)},
                            {"q50", number(m.null.q50)}, {"q99", number(m.null.q99)}, {"min", number(m.null.min)},
                            {"max", number(m.null.max)}}},
                  {"z", number(m.z)},
                  {"p_value", number(m.p_value)},
                  {"moved", m.moved},
                  {"is_identity", m.is_identity()},
                  {"unmatched_a", m.unmatched_a},
                  {"unmatched_b", m.unmatched_b},
                  {"similarity", matrix_json(m.similarity, m.experts_b.size())}});
    layers.push_back(std::move(row));
  }
  return layers;
}

// What every matching test reports (reduce/agreement_figures.hpp), for an available match.
template <class Figures>
json agreement_json(const Figures& m) {
  return {{"ranked", m.ranked},
          {"spearman", number(m.spearman)},
          {"z", number(m.z)},
          {"p_closed", number(m.p_closed)},
          {"permutations", m.permutations},
          {"p_permutation", number(m.p_permutation)},
          {"p_value", number(m.p_value)},
          {"agreement", number(m.agreement)},
          {"combined_similarity", number(m.combined_similarity)},
          {"moved", m.moved},
          {"combined", m.combined}};
}

json neuron_matching_json(const comparison_report& report) {
  json rows = json::array();
  for (const auto& m : report.neuron_matching) {
    json row = {{"layer", m.layer},
                {"group", m.group},
                {"available", m.available},
                {"reason", m.reason},
                {"neurons_a", m.neurons_a},
                {"neurons_b", m.neurons_b},
                {"hidden", m.hidden},
                {"columns", m.columns}};
    if (m.available)
      row.update(agreement_json(m));
    rows.push_back(std::move(row));
  }
  return rows;
}

json hidden_matching_json(const comparison_report& report) {
  json rows = json::array();
  for (const auto& m : report.hidden_matching) {
    json row = {{"role", m.role},         {"available", m.available}, {"reason", m.reason},
                {"hidden", m.hidden},     {"hidden_b", m.hidden_b},   {"row_begin", m.row_begin}, {"rows", m.rows},
                {"aligned_pairs", m.aligned_pairs}};
    if (m.available) {
      row.update(agreement_json(m));
      row["negated"] = m.negated;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

json head_matching_json(const comparison_report& report) {
  json rows = json::array();
  for (const auto& m : report.head_matching) {
    json row = {{"layer", m.layer},   {"mtp", m.mtp},           {"available", m.available}, {"reason", m.reason},
                {"heads", m.heads},   {"kv_heads", m.kv_heads}, {"head_dim", m.head_dim},   {"columns", m.columns},
                {"applied", m.applied}};
    if (m.available) {
      row.update(agreement_json(m));
      row["combined_kv"] = m.combined_kv;
      row["by_q"] = m.by_q;
      row["by_k"] = m.by_k;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

json fingerprints_json(const comparison_report& report) {
  json pairs = json::array();
  const auto side = [](const tensor_fingerprint& f) {
    json spectrum = json::array();
    for (const double s : f.spectrum) spectrum.push_back(number(s));
    return json{{"finite", f.finite},       {"elements", f.elements},         {"mean", number(f.mean)},
                {"sd", number(f.sd)},       {"frobenius", number(f.frobenius)}, {"spectrum", spectrum}};
  };
  for (const auto& p : report.fingerprints.pairs)
    pairs.push_back({{"layer", p.layer}, {"role", p.role}, {"name_a", p.name_a}, {"name_b", p.name_b},
                     {"shape_a", p.shape_a}, {"shape_b", p.shape_b}, {"a", side(p.a)}, {"b", side(p.b)}});
  const auto& t = report.fingerprints.test;
  json test = {{"available", t.available}, {"reason", t.reason}};
  if (t.available) {
    json null = json::array();
    for (const double v : t.null) null.push_back(number(v));
    test.update({{"roles", t.roles},
                 {"layers", t.layers},
                 {"series", t.series},
                 {"statistic", number(t.statistic)},
                 {"null", null},
                 {"z", number(t.z)},
                 {"p_value", number(t.p_value)}});
  }
  return {{"pairs", pairs}, {"test", test}};
}

json panel_json(const panel_figures& panel) {
  json comparisons = json::array(), roles = json::array();
  for (const auto& c : panel.comparisons)
    comparisons.push_back({{"side", std::string(1, c.side)},
                           {"reference", c.reference},
                           {"source", c.source},
                           {"tensor_pairs", c.tensors.size()}});
  const auto numbers = [](const std::vector<double>& values) {
    json out = json::array();
    for (const double v : values) out.push_back(number(v));
    return out;
  };
  for (const auto& r : panel.roles)
    roles.push_back({{"role", r.role},
                     {"tensor_pairs", r.layers},
                     {"pearson", number(r.pearson)},
                     {"cosine", number(r.cosine)},
                     {"panel_pearson", numbers(r.panel_pearson)},
                     {"panel_cosine", numbers(r.panel_cosine)},
                     {"panel_pearson_mean", number(r.panel_pearson_mean)},
                     {"panel_pearson_sd", number(r.panel_pearson_sd)},
                     {"panel_pearson_max", number(r.panel_pearson_max)},
                     {"panel_cosine_mean", number(r.panel_cosine_mean)},
                     {"panel_cosine_max", number(r.panel_cosine_max)},
                     {"z", number(r.z)},
                     {"p_value", number(r.p_value)}});
  return {{"comparisons", std::move(comparisons)}, {"roles", std::move(roles)}};
}

// The manifest's per-tensor digests and per-file hashes of one model (the ranges are in report.h5).
void add_content(json& model, const content_manifest& content, const side_content& side) {
  if (content.digests) {
    json tensors = json::array();
    for (std::size_t t = 0; t < side.tensors.size(); ++t) {
      const manifest_tensor& tensor = side.tensors[t];
      tensors.push_back({{"name", tensor.name},
                         {"dtype", dtype_name(tensor.type)},
                         {"shape", tensor.shape},
                         {"file", side.files.at(side.weight_files.at(tensor.file)).name},
                         {"data_offset", tensor.byte_offset},
                         {"bytes", tensor.bytes},
                         {"ranges", tensor.range_count},
                         {"xxh3", hash_hex(side.tensor_digests.at(t))}});
    }
    model["tensors"] = std::move(tensors);
  }
  json files = json::array();
  for (std::size_t f = 0; f < side.files.size(); ++f)
    files.push_back({{"name", side.files[f].name},
                     {"size", side.files[f].size},
                     {"sha256", content.sha256 ? json(side.sha256.at(f)) : json(nullptr)}});
  model["checkpoint_files"] = std::move(files);
}

json model_json(const model_description& model, const content_manifest& content, const side_content& side) {
  json config = json::parse(model.config_json, nullptr, false);
  json out = {{"path", model.path},
          {"model_type", model.model_type},
          {"architecture", model.architecture},
          {"tensor_count", model.tensor_count},
          {"parameter_count", model.parameter_count},
          {"files", model.files},
          {"file_sizes", model.file_sizes},
          {"config", config.is_discarded() ? json(model.config_json) : config}};
  add_content(out, content, side);
  return out;
}

json rank_runs_json(const std::vector<rank_run>& rows) {
  json out = json::array();
  for (const rank_run& r : rows)
    out.push_back({{"rank", r.rank},
                   {"host", r.host},
                   {"seconds_matching", r.seconds_matching},
                   {"seconds_blocks", r.seconds_blocks},
                   {"seconds_nulls", r.seconds_nulls},
                   {"seconds_other", r.seconds_other},
                   {"seconds_waiting", r.seconds_waiting},
                   {"seconds_total", r.seconds_total},
                   {"bytes_read", r.bytes_read},
                   {"units", r.units},
                   {"units_resumed", r.units_resumed},
                   {"peak_resident_bytes", r.peak_resident_bytes}});
  return out;
}

json manifest_json(const run_manifest& m, const content_manifest& content) {
  json config = json::parse(m.config_json, nullptr, false);
  json out = {{"tool_version", m.tool_version}, {"git_hash", m.git_hash},
          {"command_line", m.command_line},  {"config", config.is_discarded() ? json(m.config_json) : config},
          {"start_time", m.start_time},      {"end_time", m.end_time},
          {"host", m.host},                  {"kernel", m.kernel},
          {"ranks", m.ranks},                {"block_elements", m.block_elements}};
  out["content_digests"] = content.digests;
  out["sha256_files"] = content.sha256;
  if (!m.rank_runs.empty()) out["rank_runs"] = rank_runs_json(m.rank_runs);
  return out;
}

json tensors_json(const comparison_report& report) {
  json tensors = json::array();
  for (const auto& t : report.tensors) {
    json row = {{"a", t.pair.a.name},
                {"b", t.pair.b.name},
                {"layer", optional_index(t.pair.key.layer)},
                {"role", t.pair.key.role},
                {"expert", optional_index(t.pair.key.expert)},
                {"dtype_a", dtype_name(t.pair.a.type)},
                {"dtype_b", dtype_name(t.pair.b.type)},
                {"shape", t.pair.a.shape},
                {"shape_b", t.pair.b.shape},
                {"pairing", t.pair.pairing},
                {"axes", axes_text(t.pair.axes)}};
    if (!t.pair.rows_a.empty()) row["rows"] = {{"a", t.pair.rows_a}, {"b", t.pair.rows_b}};
    if (t.pair.exclude_end > t.pair.exclude_begin)
      row["excluded_rows"] = {t.pair.exclude_begin, t.pair.exclude_end};
    row.update(figures_json(t.moments, t.figures));
    row["p_value"] = t.null.available ? number(t.null.p_value) : json(nullptr);
    row["null"] = null_json(t.null);
    tensors.push_back(std::move(row));
  }
  return tensors;
}

json roles_json(const comparison_report& report) {
  json roles = json::object();
  for (const auto& table : report.roles) {
    json layers = json::array();
    for (const auto& layer : table.layers) {
      json row = {{"layer", optional_index(layer.layer)}, {"tensor_pairs", layer.tensor_pairs}};
      row.update(figures_json(layer.moments, layer.figures));
      layers.push_back(std::move(row));
    }
    roles[table.role] = std::move(layers);
  }
  return roles;
}

json unpaired_json(const comparison_report& report) {
  json unpaired = json::array();
  for (const auto& u : report.unpaired)
    unpaired.push_back({{"side", std::string(1, u.side)},
                        {"name", u.name},
                        {"layer", optional_index(u.key.layer)},
                        {"role", u.key.role},
                        {"expert", optional_index(u.key.expert)},
                        {"dtype", dtype_name(u.type)},
                        {"shape", u.shape},
                        {"reason", u.reason}});
  return unpaired;
}

json verdict_json(const verdict_report& v) {
  return {{"label", v.label},
          {"p_global", number(v.p_global)},
          {"p_floor", number(v.p_floor)},
          {"units", v.units},
          {"alpha", v.alpha},
          {"evidence", v.evidence},
          {"notes", v.notes},
          {"carried_by", v.carried_by},
          {"invariances_tested", v.invariances_tested},
          {"invariances_not_tested", v.invariances_not_tested}};
}

}  // namespace

std::string report_json_text(const comparison_report& report) {
  json families = json::array(), layers = json::array();
  for (const auto& f : report.evidence.families) families.push_back(group_json(f, true));
  for (const auto& l : report.evidence.layers) layers.push_back(group_json(l, false));
  json units = json::array();
  for (const auto& u : report.units) units.push_back(unit_json(u));
  const json document = {
      {"format", "lineage-report"},
      {"format_version", 1},
      {"status", report.status()},
      {"verdict", verdict_json(report.evidence.verdict)},
      {"summary",
       {{"tensor_pairs", report.tensors.size()},
        {"unpaired_a", report.unpaired_a},
        {"unpaired_b", report.unpaired_b},
        {"tensors_with_nonfinite", report.tensors_with_nonfinite},
        {"compared_elements", report.compared_elements}}},
      {"manifest", manifest_json(report.manifest, report.content)},
      {"models",
       {{"a", model_json(report.model_a, report.content, report.content.a)},
        {"b", model_json(report.model_b, report.content, report.content.b)}}},
      {"tensors", tensors_json(report)},
      {"units", std::move(units)},
      {"roles", roles_json(report)},
      {"families", std::move(families)},
      {"layer_structure", layer_structure_json(report)},
      {"expert_matching", expert_matching_json(report)},
      {"neuron_matching", neuron_matching_json(report)},
      {"hidden_matching", hidden_matching_json(report)},
      {"fingerprints", fingerprints_json(report)},
      {"head_matching", head_matching_json(report)},
      {"reference_panel", panel_json(report.panel)},
      {"tokenizers", tokenizers_object(report)},
      {"layers", std::move(layers)},
      {"unpaired", unpaired_json(report)},
  };
  return document.dump(1) + "\n";
}

}  // namespace lineage
