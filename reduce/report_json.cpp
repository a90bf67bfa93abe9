#include <cmath>

#include <nlohmann/json.hpp>

#include "reduce/report_writers.hpp"

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

json model_json(const model_description& model) {
  json config = json::parse(model.config_json, nullptr, false);
  return {{"path", model.path},
          {"model_type", model.model_type},
          {"architecture", model.architecture},
          {"tensor_count", model.tensor_count},
          {"parameter_count", model.parameter_count},
          {"files", model.files},
          {"file_sizes", model.file_sizes},
          {"config", config.is_discarded() ? json(model.config_json) : config}};
}

json manifest_json(const run_manifest& m) {
  json config = json::parse(m.config_json, nullptr, false);
  return {{"tool_version", m.tool_version}, {"git_hash", m.git_hash},
          {"command_line", m.command_line},  {"config", config.is_discarded() ? json(m.config_json) : config},
          {"start_time", m.start_time},      {"end_time", m.end_time},
          {"host", m.host},                  {"kernel", m.kernel},
          {"ranks", m.ranks},                {"block_elements", m.block_elements}};
}

}  // namespace

std::string report_json_text(const comparison_report& report) {
  json tensors = json::array();
  for (const auto& t : report.tensors) {
    json row = {{"a", t.pair.a.name},
                {"b", t.pair.b.name},
                {"layer", optional_index(t.pair.key.layer)},
                {"role", t.pair.key.role},
                {"expert", optional_index(t.pair.key.expert)},
                {"dtype_a", dtype_name(t.pair.a.type)},
                {"dtype_b", dtype_name(t.pair.b.type)},
                {"shape", t.pair.a.shape}};
    row.update(figures_json(t.moments, t.figures));
    tensors.push_back(std::move(row));
  }
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
  const json document = {
      {"format", "lineage-report"},
      {"format_version", 1},
      {"status", report.status()},
      {"summary",
       {{"tensor_pairs", report.tensors.size()},
        {"unpaired_a", report.unpaired_a},
        {"unpaired_b", report.unpaired_b},
        {"tensors_with_nonfinite", report.tensors_with_nonfinite},
        {"compared_elements", report.compared_elements}}},
      {"manifest", manifest_json(report.manifest)},
      {"models", {{"a", model_json(report.model_a)}, {"b", model_json(report.model_b)}}},
      {"tensors", std::move(tensors)},
      {"roles", std::move(roles)},
      {"unpaired", std::move(unpaired)},
  };
  return document.dump(1) + "\n";
}

}  // namespace lineage
