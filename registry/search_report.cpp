#include "registry/search_report.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>

#include "core/display_text.hpp"
#include "reduce/probability.hpp"

namespace lineage {
namespace {

nlohmann::json number(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

// Fisher's combination of each family's units, in family order.
std::map<std::string, double> family_p(const member_evidence& e) {
  std::map<std::string, std::vector<double>> by_family;
  for (const unit_evidence& u : e.units) by_family[u.family].push_back(u.p);
  std::map<std::string, double> out;
  for (const auto& [family, p] : by_family) out[family] = fisher_combination(p).p;
  return out;
}

nlohmann::json candidate_json(const search_candidate& c, std::size_t rank) {
  nlohmann::json units = nlohmann::json::array();
  for (const unit_evidence& u : c.evidence.units)
    units.push_back({{"family", u.family}, {"label", u.label}, {"observed", number(u.observed)}, {"z", number(u.z)},
                     {"p", number(u.p)}, {"draws", u.draws}});
  nlohmann::json families = nlohmann::json::object();
  for (const auto& [family, p] : family_p(c.evidence)) families[family] = number(p);
  return {{"rank", rank},
          {"name", c.member.name},
          {"file", c.member.file},
          {"sha256", c.member.sha256},
          {"checkpoint", c.member.checkpoint},
          {"model_type", c.model_type},
          {"verdict", c.verdict},
          {"reason", c.reason},
          {"p", number(c.evidence.p)},
          {"adjusted_p", number(c.adjusted_p)},
          {"score", number(c.evidence.score)},
          {"registry_z", number(c.registry_z)},
          {"same_bytes", c.evidence.same_bytes},
          {"shared_tokens", c.evidence.shared_rows},
          {"shared_frame_tokens", c.evidence.shared_frame},
          {"note", c.evidence.note},
          {"families", families},
          {"units", units}};
}

std::string shown_z(double z) { return std::isfinite(z) ? fmt::format("{:.1f}", z) : "–"; }

nlohmann::json compares_json(const std::vector<compare_run>& runs) {
  nlohmann::json out = nlohmann::json::array();
  for (const compare_run& c : runs)
    out.push_back({{"member", c.member}, {"source", c.source}, {"output", c.output}, {"status", c.status},
                   {"verdict", c.verdict}, {"p", number(c.p)}});
  return out;
}

}  // namespace

nlohmann::json search_json(const search_result& r) {
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : r.query_files) files.push_back({{"path", f.path}, {"size", f.size}, {"sha256", f.sha256}});
  nlohmann::json candidates = nlohmann::json::array();
  for (std::size_t i = 0; i < r.candidates.size(); ++i) candidates.push_back(candidate_json(r.candidates[i], i + 1));
  return {{"format", "lineage-search"},
          {"format_version", 1},
          {"tool_version", r.tool_version},
          {"query", {{"name", r.query_name}, {"source", r.query_source}, {"model_type", r.query_model_type},
                     {"checkpoint", r.query_checkpoint}, {"files", files}}},
          {"registry", r.registry},
          {"options", {{"seed", r.options.seed}, {"draws", r.options.draws}, {"deep_draws", r.options.deep_draws},
                       {"alpha", r.options.alpha},
                       {"correction", "Holm across members"}}},
          {"members", r.candidates.size()},
          {"candidates", candidates},
          {"compares", compares_json(r.compares)}};
}

std::string search_markdown(const search_result& r) {
  std::string md = fmt::format("# lineage search: {}\n\n", markdown_text(r.query_name));
  md += fmt::format("Query `{}` ({}), checkpoint SHA-256 of digests `{}`, against the {} members of registry `{}`. "
                    "Each member's p is Fisher's combination of exact permutation tests over its symmetric axes "
                    "({} draws per unit, {} for a unit with under 10 draws at or above its statistic); adjusted p: Holm across the {} members; α = {}. Registry z: the "
                    "member's score against the other members' (median and MAD), the empirical null of unrelated "
                    "models.\n\n",
                    markdown_text(r.query_source), markdown_text(r.query_model_type.empty() ? "no model_type" : r.query_model_type),
                    r.query_checkpoint, r.candidates.size(), markdown_text(r.registry), r.options.draws, r.options.deep_draws,
                    r.candidates.size(), r.options.alpha);
  md += "| rank | member | verdict | adjusted p | p | registry z | units | shared tokens |\n";
  md += "|---|---|---|---|---|---|---|---|\n";
  for (std::size_t i = 0; i < r.candidates.size(); ++i) {
    const search_candidate& c = r.candidates[i];
    md += fmt::format("| {} | {} | **{}** | {:.3g} | {:.3g} | {} | {} | {} |\n", i + 1, markdown_text(c.member.name),
                      c.verdict, c.adjusted_p, c.evidence.p, shown_z(c.registry_z), c.evidence.units.size(),
                      c.evidence.shared_rows);
  }
  md += "\n";
  for (std::size_t i = 0; i < r.candidates.size(); ++i) {
    const search_candidate& c = r.candidates[i];
    md += fmt::format("- **{}**: {}", markdown_text(c.member.name), markdown_text(c.reason));
    for (const auto& [family, p] : family_p(c.evidence)) md += fmt::format("; {} p {:.3g}", family, p);
    if (!c.evidence.note.empty()) md += fmt::format(" ({})", markdown_text(c.evidence.note));
    md += "\n";
  }
  if (!r.compares.empty()) md += "\n## Full comparisons of the first candidates\n\n";
  for (const compare_run& c : r.compares)
    md += fmt::format("- **{}**: {}{}{}\n", markdown_text(c.member), markdown_text(c.status),
                      c.verdict.empty() ? "" : fmt::format(", verdict **{}** (global p {:.3g})", markdown_text(c.verdict), c.p),
                      c.output.empty() ? "" : fmt::format(" — `{}`", markdown_text(c.output)));
  return md;
}

}  // namespace lineage
