#include "registry/search_record.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <span>

#include "checkpoint/checkpoint.hpp"
#include "core/content_hash.hpp"
#include "core/error.hpp"
#include "core/version.hpp"
#include "h5/h5_file.hpp"
#include "h5/h5_reader.hpp"
#include "h5/h5_seal.hpp"
#include "registry/fingerprint_h5.hpp"

namespace lineage {
namespace {

constexpr const char* format_name = "lineage-search";
constexpr std::int64_t format_version = 1;

void write_query(h5_file& file, const search_result& r) {
  const h5_group query = file.create_group("query");
  query.set_attribute("name", r.query_name);
  query.set_attribute("source", r.query_source);
  query.set_attribute("model_type", r.query_model_type);
  query.set_attribute("checkpoint", r.query_checkpoint);
  write_file_digests(query, r.query_files);
}

void write_members(h5_file& file, const search_result& r) {
  const h5_group members = file.create_group("members");
  std::vector<std::string> name, member_file, sha, checkpoint, verdict, reason;
  std::vector<double> p, adjusted, score, registry_z;
  std::vector<std::uint64_t> shared, units;
  for (const search_candidate& c : r.candidates) {
    name.push_back(c.member.name);
    member_file.push_back(c.member.file);
    sha.push_back(c.member.sha256);
    checkpoint.push_back(c.member.checkpoint);
    verdict.push_back(c.verdict);
    reason.push_back(c.reason);
    p.push_back(c.evidence.p);
    adjusted.push_back(c.adjusted_p);
    score.push_back(c.evidence.score);
    registry_z.push_back(c.registry_z);
    shared.push_back(c.evidence.shared_rows);
    units.push_back(c.evidence.units.size());
  }
  for (const auto& [column, values] : {std::pair{"name", &name}, {"file", &member_file}, {"sha256", &sha},
                                       {"checkpoint", &checkpoint}, {"verdict", &verdict}, {"reason", &reason}})
    members.write_column(column, *values);
  for (const auto& [column, values] :
       {std::pair{"p", &p}, {"adjusted_p", &adjusted}, {"score", &score}, {"registry_z", &registry_z}})
    members.write_column(column, std::span<const double>(*values));
  members.write_column("shared_tokens", std::span<const std::uint64_t>(shared));
  members.write_column("units", std::span<const std::uint64_t>(units));
}

void write_units(h5_file& file, const search_result& r) {
  const h5_group group = file.create_group("units");
  std::vector<std::int64_t> member, draws;
  std::vector<std::string> family, label;
  std::vector<double> observed, z, p;
  for (std::size_t i = 0; i < r.candidates.size(); ++i)
    for (const unit_evidence& u : r.candidates[i].evidence.units) {
      member.push_back(static_cast<std::int64_t>(i));
      family.push_back(u.family);
      label.push_back(u.label);
      observed.push_back(u.observed);
      z.push_back(u.z);
      p.push_back(u.p);
      draws.push_back(u.draws);
    }
  group.write_column("member", std::span<const std::int64_t>(member));
  group.write_column("family", family);
  group.write_column("label", label);
  group.write_column("observed", std::span<const double>(observed));
  group.write_column("z", std::span<const double>(z));
  group.write_column("p", std::span<const double>(p));
  group.write_column("draws", std::span<const std::int64_t>(draws));
}

}  // namespace

std::string search_record_image(const search_result& r, const std::string& json_text, const std::string& label) {
  h5_file file = h5_file::create_in_memory(label, h5_seal_bytes);
  file.set_attribute("format", std::string(format_name));
  file.set_attribute("format_version", format_version);
  file.set_attribute("tool_version", r.tool_version);
  file.set_attribute("git_hash", std::string(git_hash()));
  file.set_attribute("registry", r.registry);
  file.set_attribute("seed", static_cast<std::int64_t>(r.options.seed));
  file.set_attribute("draws", static_cast<std::int64_t>(r.options.draws));
  file.set_attribute("deep_draws", static_cast<std::int64_t>(r.options.deep_draws));
  file.set_attribute("alpha", r.options.alpha);
  file.set_attribute("correction", std::string("Holm across members"));
  file.set_attribute("search_json", json_text);
  write_query(file, r);
  write_members(file, r);
  write_units(file, r);
  std::string image = file.close_to_image();
  seal_h5_image(image);
  return image;
}

recorded_search read_search_record(const std::filesystem::path& path) {
  const h5_reader in = h5_reader::open(path);
  const std::string where = path.string();
  if (!in.has_attribute("/", "format") || in.string_attribute("/", "format") != format_name)
    throw input_error(fmt::format("{}: attribute format: not a lineage search record (expected \"{}\")", where,
                                  format_name));
  if (in.integer_attribute("/", "format_version") != format_version)
    throw input_error(fmt::format("{}: attribute format_version: not {}", where, format_version));
  recorded_search record;
  record.query_name = in.string_attribute("/query", "name");
  record.query_checkpoint = in.string_attribute("/query", "checkpoint");
  record.query_files = read_file_digests(in, "/query");
  const auto names = in.strings("/members/name"), files = in.strings("/members/file"),
             shas = in.strings("/members/sha256"), checkpoints = in.strings("/members/checkpoint");
  if (names.size() != files.size() || names.size() != shas.size() || names.size() != checkpoints.size())
    throw input_error(where + ": /members: name, file, sha256 and checkpoint differ in length");
  for (std::size_t i = 0; i < names.size(); ++i) record.members.push_back({names[i], files[i], shas[i], checkpoints[i], ""});
  return record;
}

std::vector<std::string> query_differences(const recorded_search& record, const std::filesystem::path& model) {
  const checkpoint opened = open_checkpoint(model);
  const std::filesystem::path root = std::filesystem::is_directory(opened.root) ? opened.root : opened.root.parent_path();
  std::map<std::string, std::string> found;  // path → SHA-256
  for (const checkpoint_file& f : opened.files)
    found[std::filesystem::relative(f.path, root).generic_string()] = sha256_file(f.path);
  std::vector<std::string> lines;
  for (const fingerprint_file_digest& f : record.query_files) {
    const auto at = found.find(f.path);
    if (at == found.end()) lines.push_back(fmt::format("file {}: recorded, missing from {}", f.path, model.string()));
    else if (at->second != f.sha256)
      lines.push_back(fmt::format("file {}: SHA-256 {} instead of the recorded {}", f.path, at->second, f.sha256));
    if (at != found.end()) found.erase(at);
  }
  for (const auto& [path, digest] : found) lines.push_back(fmt::format("file {}: not in the record", path));
  return lines;
}

std::vector<std::string> registry_differences(const recorded_search& record, const std::filesystem::path& registry) {
  std::map<std::string, registry_entry> listed;
  for (registry_entry& e : read_registry(registry)) listed[e.name] = std::move(e);
  std::vector<std::string> lines;
  for (const registry_entry& m : record.members) {
    const auto at = listed.find(m.name);
    if (at == listed.end()) {
      lines.push_back(fmt::format("member {}: recorded, not listed in {}", m.name, (registry / "registry.json").string()));
      continue;
    }
    const std::filesystem::path path = registry / at->second.file;
    const std::string digest = std::filesystem::is_regular_file(path) ? sha256_file(path) : std::string();
    if (digest.empty()) lines.push_back(fmt::format("member {}: {} is missing", m.name, path.string()));
    else if (digest != m.sha256)
      lines.push_back(fmt::format("member {}: {} has SHA-256 {} instead of the recorded {}", m.name, path.string(),
                                  digest, m.sha256));
    listed.erase(at);
  }
  for (const auto& [name, entry] : listed)
    lines.push_back(fmt::format("member {}: in the registry, not in the record (added since the search)", name));
  return lines;
}

}  // namespace lineage
