// report.json's "manifest" and "models" (with the content manifest's digests and files) read back
// (report/report_json_read.hpp).
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/dtype.hpp"
#include "report/report_json_read_parts.hpp"

namespace lineage::json_read {
namespace {

// The text a "config" value was made from: the configuration as parsed, dumped compactly (what
// plan.cpp's describe and the job keep), or the string written for text that was not JSON.
std::string config_text(const json_field& field) {
  if (field.value().is_string()) return field.text();
  return field.value().dump();
}

// 16 lower-case hex digits (hash_hex's form).
std::uint64_t hash_of(const json_field& field) {
  const std::string text = field.text();
  std::uint64_t value = 0;
  const bool hex = text.size() == 16 && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  if (!hex) field.fail("expected 16 lower-case hex digits");
  for (const char c : text) value = value * 16 + static_cast<std::uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  return value;
}

rank_run read_rank_run(const json_field& row) {
  rank_run r;
  r.rank = row["rank"].integer<int>();
  r.host = row["host"].text();
  r.seconds_matching = row["seconds_matching"].number();
  r.seconds_blocks = row["seconds_blocks"].number();
  r.seconds_nulls = row["seconds_nulls"].number();
  r.seconds_other = row["seconds_other"].number();
  r.seconds_waiting = row["seconds_waiting"].number();
  r.seconds_total = row["seconds_total"].number();
  r.bytes_read = row["bytes_read"].integer<std::uint64_t>();
  r.units = row["units"].integer<std::uint64_t>();
  r.units_resumed = row["units_resumed"].integer<std::uint64_t>();
  r.peak_resident_bytes = row["peak_resident_bytes"].integer<std::uint64_t>();
  return r;
}

void read_files(const json_field& rows, bool sha256, side_content& side) {
  side.files.resize(rows.size());
  side.sha256.assign(rows.size(), std::string());
  for (std::size_t f = 0; f < side.files.size(); ++f) {
    const json_field row = rows[f];
    side.files[f].name = row["name"].text();
    side.files[f].size = row["size"].integer<std::uint64_t>();
    const json_field hash = row["sha256"];
    if (sha256)
      side.sha256[f] = hash.text();
    else if (!hash.is_null())
      hash.fail("expected null (the manifest says no file was hashed)");
    side.weight_files.push_back(static_cast<std::uint32_t>(f));
  }
}

// A manifest tensor and its digest; `file_index` gives each checkpoint file's index by name.
manifest_tensor read_manifest_tensor(const json_field& row, const std::map<std::string, std::uint32_t>& file_index,
                                     std::uint64_t& digest) {
  manifest_tensor t;
  t.name = row["name"].text();
  const json_field type = row["dtype"];
  const auto parsed = parse_dtype(type.text());
  if (!parsed) type.fail(fmt::format("\"{}\" is not a dtype lineage compares", type.text()));
  t.type = *parsed;
  t.shape = row["shape"].integers<std::uint64_t>();
  const json_field file = row["file"];
  const std::string name = file.text();
  const auto found = file_index.find(name);
  if (found == file_index.end()) file.fail(fmt::format("\"{}\" is not in checkpoint_files", name));
  t.file = found->second;
  t.byte_offset = row["data_offset"].integer<std::uint64_t>();
  t.bytes = row["bytes"].integer<std::uint64_t>();
  t.range_count = row["ranges"].integer<std::uint64_t>();
  digest = hash_of(row["xxh3"]);
  return t;
}

}  // namespace

run_manifest manifest(const json_field& object) {
  run_manifest m;
  m.tool_version = object["tool_version"].text();
  m.git_hash = object["git_hash"].text();
  m.command_line = object["command_line"].text();
  m.config_json = config_text(object["config"]);
  m.start_time = object["start_time"].text();
  m.end_time = object["end_time"].text();
  m.host = object["host"].text();
  m.kernel = object["kernel"].text();
  m.ranks = object["ranks"].integer<int>();
  m.block_elements = object["block_elements"].integer<std::uint64_t>();
  if (object.has("rank_runs")) {
    const json_field rows = object["rank_runs"];
    m.rank_runs.resize(rows.size());
    for (std::size_t r = 0; r < m.rank_runs.size(); ++r) m.rank_runs[r] = read_rank_run(rows[r]);
  }
  return m;
}

model_description model(const json_field& object, content_manifest& content, side_content& side) {
  model_description d;
  d.path = object["path"].text();
  d.model_type = object["model_type"].text();
  d.architecture = object["architecture"].text();
  d.tensor_count = object["tensor_count"].integer<std::uint64_t>();
  d.parameter_count = object["parameter_count"].integer<std::uint64_t>();
  d.files = object["files"].texts();
  const json_field sizes = object["file_sizes"];
  d.file_sizes = sizes.integers<std::uint64_t>();
  if (d.file_sizes.size() != d.files.size())
    sizes.fail(fmt::format("{} sizes for {} files (expected as many)", d.file_sizes.size(), d.files.size()));
  d.config_json = config_text(object["config"]);
  read_files(object["checkpoint_files"], content.sha256, side);
  if (content.digests) {
    const json_field rows = object["tensors"];
    std::map<std::string, std::uint32_t> file_index;
    for (std::size_t f = 0; f < side.files.size(); ++f) file_index.emplace(side.files[f].name, static_cast<std::uint32_t>(f));
    side.tensors.resize(rows.size());
    side.tensor_digests.resize(rows.size());
    for (std::size_t t = 0; t < side.tensors.size(); ++t)
      side.tensors[t] = read_manifest_tensor(rows[t], file_index, side.tensor_digests[t]);
  }
  return d;
}

}  // namespace lineage::json_read
