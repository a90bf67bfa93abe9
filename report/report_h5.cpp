#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <functional>

#include "h5/h5_file.hpp"
#include "h5/h5_seal.hpp"
#include "report/h5_columns.hpp"
#include "report/report_tokenizers.hpp"
#include "report/report_writers.hpp"

namespace lineage {
namespace {

constexpr std::int64_t format_version = 1;

// Columns shared by the tensor table and the role tables.
template <typename Row>
void write_figures(const h5_group& group, const std::vector<Row>& rows) {
  using u64 = std::uint64_t;
  group.write_column("elements", column(rows, [](const Row& r) -> u64 { return r.moments.elements; }));
  group.write_column("n", column(rows, [](const Row& r) -> u64 { return r.moments.count; }));
  group.write_column("bitwise_equal", column(rows, [](const Row& r) -> u64 { return r.moments.bitwise_equal; }));
  group.write_column("nonfinite_a", column(rows, [](const Row& r) -> u64 { return r.moments.nonfinite_a; }));
  group.write_column("nonfinite_b", column(rows, [](const Row& r) -> u64 { return r.moments.nonfinite_b; }));
  const std::pair<const char*, std::function<double(const Row&)>> doubles[] = {
      {"cosine", [](const Row& r) { return r.figures.cosine; }},
      {"pearson", [](const Row& r) { return r.figures.pearson; }},
      {"rel_l2", [](const Row& r) { return r.figures.rel_l2; }},
      {"norm_ratio", [](const Row& r) { return r.figures.norm_ratio; }},
      {"bitwise_equal_fraction", [](const Row& r) { return r.figures.bitwise_equal_fraction; }},
      {"mean_a", [](const Row& r) { return r.figures.mean_a; }},
      {"std_a", [](const Row& r) { return r.figures.std_a; }},
      {"cv_a", [](const Row& r) { return r.figures.cv_a; }},
      {"min_a", [](const Row& r) { return r.moments.min_a; }},
      {"max_a", [](const Row& r) { return r.moments.max_a; }},
      {"mean_b", [](const Row& r) { return r.figures.mean_b; }},
      {"std_b", [](const Row& r) { return r.figures.std_b; }},
      {"cv_b", [](const Row& r) { return r.figures.cv_b; }},
      {"min_b", [](const Row& r) { return r.moments.min_b; }},
      {"max_b", [](const Row& r) { return r.moments.max_b; }},
      {"sum_a", [](const Row& r) { return r.moments.sum_a(); }},
      {"sum_b", [](const Row& r) { return r.moments.sum_b(); }},
      {"sum_aa", [](const Row& r) { return r.moments.raw_aa; }},
      {"sum_bb", [](const Row& r) { return r.moments.raw_bb; }},
      {"sum_ab", [](const Row& r) { return r.moments.raw_ab; }},
      {"sum_dd", [](const Row& r) { return r.moments.sum_dd; }},
      {"m2_a", [](const Row& r) { return r.moments.m2_a; }},
      {"m2_b", [](const Row& r) { return r.moments.m2_b; }},
      {"c_ab", [](const Row& r) { return r.moments.c_ab; }},
  };
  for (const auto& [name, extract] : doubles) group.write_column(name, column(rows, extract));
}

void write_model(const h5_group& parent, const char* name, const model_description& model,
                 const content_manifest& content, const side_content& side) {
  const h5_group group = parent.create_group(name);
  group.set_attribute("path", model.path);
  group.set_attribute("model_type", model.model_type);
  group.set_attribute("architecture", model.architecture);
  group.set_attribute("tensor_count", static_cast<std::int64_t>(model.tensor_count));
  group.set_attribute("parameter_count", static_cast<std::int64_t>(model.parameter_count));
  group.set_attribute("config_json", model.config_json);
  group.write_column("files", model.files);
  group.write_column("file_sizes", std::span<const std::uint64_t>(model.file_sizes));
  write_content(group, content, side);
}

// The per-rank table: where each rank ran, how its time went, what it read and its peak memory.
void write_rank_runs(const h5_group& manifest, const std::vector<rank_run>& rows) {
  const h5_group group = manifest.create_group("rank_runs");
  using row = rank_run;
  group.write_column("rank", column(rows, [](const row& r) -> std::int64_t { return r.rank; }));
  group.write_column("host", column(rows, [](const row& r) { return r.host; }));
  group.write_column("seconds_matching", column(rows, [](const row& r) { return r.seconds_matching; }));
  group.write_column("seconds_blocks", column(rows, [](const row& r) { return r.seconds_blocks; }));
  group.write_column("seconds_nulls", column(rows, [](const row& r) { return r.seconds_nulls; }));
  group.write_column("seconds_other", column(rows, [](const row& r) { return r.seconds_other; }));
  group.write_column("seconds_waiting", column(rows, [](const row& r) { return r.seconds_waiting; }));
  group.write_column("seconds_total", column(rows, [](const row& r) { return r.seconds_total; }));
  group.write_column("bytes_read", column(rows, [](const row& r) { return r.bytes_read; }));
  group.write_column("units", column(rows, [](const row& r) { return r.units; }));
  group.write_column("units_resumed", column(rows, [](const row& r) { return r.units_resumed; }));
  group.write_column("peak_resident_bytes", column(rows, [](const row& r) { return r.peak_resident_bytes; }));
}

void write_manifest(const h5_group& root, const comparison_report& report) {
  const h5_group group = root.create_group("manifest");
  const auto& m = report.manifest;
  group.set_attribute("tool_version", m.tool_version);
  group.set_attribute("git_hash", m.git_hash);
  group.set_attribute("command_line", m.command_line);
  group.set_attribute("config", m.config_json);
  group.set_attribute("start_time", m.start_time);
  group.set_attribute("end_time", m.end_time);
  group.set_attribute("host", m.host);
  group.set_attribute("kernel", m.kernel);
  group.set_attribute("ranks", static_cast<std::int64_t>(m.ranks));
  group.set_attribute("block_elements", static_cast<std::int64_t>(m.block_elements));
  group.set_attribute("content_digests", static_cast<std::int64_t>(report.content.digests ? 1 : 0));
  group.set_attribute("sha256_files", static_cast<std::int64_t>(report.content.sha256 ? 1 : 0));
  write_model(group, "model_a", report.model_a, report.content, report.content.a);
  write_model(group, "model_b", report.model_b, report.content, report.content.b);
  if (!m.rank_runs.empty()) write_rank_runs(group, m.rank_runs);
}

void write_tensors(const h5_group& root, const comparison_report& report) {
  const h5_group group = root.create_group("tensors");
  const auto& rows = report.tensors;
  using row = tensor_result;
  group.write_column("name_a", column(rows, [](const row& r) { return r.pair.a.name; }));
  group.write_column("name_b", column(rows, [](const row& r) { return r.pair.b.name; }));
  group.write_column("role", column(rows, [](const row& r) { return r.pair.key.role; }));
  group.write_column("layer", column(rows, [](const row& r) -> std::int64_t { return r.pair.key.layer; }));
  group.write_column("expert", column(rows, [](const row& r) -> std::int64_t { return r.pair.key.expert; }));
  group.write_column("dtype_a", column(rows, [](const row& r) { return std::string(dtype_name(r.pair.a.type)); }));
  group.write_column("dtype_b", column(rows, [](const row& r) { return std::string(dtype_name(r.pair.b.type)); }));
  group.write_column("shape", column(rows, [](const row& r) { return shape_text(r.pair.a.shape); }));
  group.write_column("shape_b", column(rows, [](const row& r) { return shape_text(r.pair.b.shape); }));
  group.write_column("pairing", column(rows, [](const row& r) { return r.pair.pairing; }));
  group.write_column("excluded_row_begin", column(rows, [](const row& r) { return r.pair.exclude_begin; }));
  group.write_column("excluded_row_end", column(rows, [](const row& r) { return r.pair.exclude_end; }));
  write_figures(group, rows);
  write_null_columns(group, rows);
}

void write_roles(const h5_group& root, const comparison_report& report) {
  const h5_group roles = root.create_group("roles");
  for (const auto& table : report.roles) {
    const h5_group group = roles.create_group(table.role);
    using row = role_layer;
    group.write_column("layer", column(table.layers, [](const row& r) -> std::int64_t { return r.layer; }));
    group.write_column("tensor_pairs", column(table.layers, [](const row& r) { return r.tensor_pairs; }));
    write_figures(group, table.layers);
  }
}

void write_unpaired(const h5_group& root, const comparison_report& report) {
  const h5_group group = root.create_group("unpaired");
  const auto& rows = report.unpaired;
  using row = unpaired_tensor;
  group.write_column("side", column(rows, [](const row& r) { return std::string(1, r.side); }));
  group.write_column("name", column(rows, [](const row& r) { return r.name; }));
  group.write_column("role", column(rows, [](const row& r) { return r.key.role; }));
  group.write_column("layer", column(rows, [](const row& r) -> std::int64_t { return r.key.layer; }));
  group.write_column("expert", column(rows, [](const row& r) -> std::int64_t { return r.key.expert; }));
  group.write_column("dtype", column(rows, [](const row& r) { return std::string(dtype_name(r.type)); }));
  group.write_column("shape", column(rows, [](const row& r) { return shape_text(r.shape); }));
  group.write_column("reason", column(rows, [](const row& r) { return r.reason; }));
}

}  // namespace

std::string report_h5_image(const comparison_report& report, const std::string& label, const std::string& json_text) {
  h5_file file = h5_file::create_in_memory(label, h5_seal_bytes);
  file.set_attribute("format", std::string("lineage-report"));
  file.set_attribute("format_version", format_version);
  file.set_attribute("status", report.status());
  file.set_attribute("verdict", report.evidence.verdict.label);
  file.set_attribute("tensor_pairs", static_cast<std::int64_t>(report.tensors.size()));
  file.set_attribute("unpaired_a", static_cast<std::int64_t>(report.unpaired_a));
  file.set_attribute("unpaired_b", static_cast<std::int64_t>(report.unpaired_b));
  file.set_attribute("tensors_with_nonfinite", static_cast<std::int64_t>(report.tensors_with_nonfinite));
  write_manifest(file, report);
  write_tensors(file, report);
  write_roles(file, report);
  write_unpaired(file, report);
  write_null_samples(file, report);
  write_evidence(file, report);
  write_layer_structure(file, report);
  write_expert_matching(file, report);
  write_neuron_matching(file, report);
  write_hidden_matching(file, report);
  write_fingerprints(file, report);
  write_head_matching(file, report);
  write_reference_panel(file, report);
  write_tokenizers(file, report);
  // report.json's document verbatim: report.html and report.md are rendered from this file alone.
  file.write_column("report_json", std::vector<std::string>{json_text});
  std::string image = file.close_to_image();
  seal_h5_image(image);
  return image;
}

}  // namespace lineage
