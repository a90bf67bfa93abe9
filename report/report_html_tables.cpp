// report.html: the tensor table, the unpaired tensors and the run's manifest.
#include "report/report_html_sections.hpp"

#include <fmt/format.h>

#include <string>

#include <nlohmann/json.hpp>

#include "report/number_text.hpp"
#include "report/rank_run_rows.hpp"

namespace lineage::html {

using namespace number_text;  // NOLINT: the number formats every section uses

namespace {

// A JSON text of the model (the resolved configuration) as report.json holds it: parsed when it
// parses, else the text itself.
nlohmann::json json_value(const std::string& text) {
  nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
  return value.is_discarded() ? nlohmann::json(text) : value;
}

std::string rank_runs_table(const std::vector<rank_run>& runs) {
  std::string ranks;
  for (const rank_run_row& row : rank_run_rows(runs)) {
    ranks += "<tr>";
    for (std::size_t i = 0; i < std::size(row.cells); ++i)
      ranks += (i == 1 ? "<td>" : "<td class=\"n\">") + e(row.cells[i]) + "</td>";
    ranks += "</tr>";
  }
  if (ranks.empty()) return "";
  std::string head;
  for (const char* heading : rank_run_headings) head += fmt::format("<th>{}</th>", heading);
  return "<h3 id=\"rank-runs\">Time, bytes and memory per rank</h3><div class=\"scroll\"><table><thead><tr>" + head +
         "</tr></thead><tbody>" + ranks + "</tbody></table></div>";
}

}  // namespace

std::string tensors_section(const std::vector<tensor_result>& tensors) {
  std::string rows;
  for (const tensor_result& t : tensors) {
    const bool tested = t.null.available;
    rows += fmt::format(
        "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td "
        "class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
        "class=\"n\">{}</td><td>{}</td></tr>",
        e(t.pair.a.name), index_text(t.pair.key.layer), e(t.pair.key.role), index_text(t.pair.key.expert),
        e(shape_text(t.pair.a.shape)), fixed(t.figures.cosine), fixed(t.figures.pearson),
        fixed(when(tested, t.null.pearson.q99)), fixed(when(tested, t.null.z), 1), pval(when(tested, t.null.p_value)),
        fixed(t.figures.rel_l2), fixed(t.figures.bitwise_equal_fraction, 3), e(t.pair.pairing));
  }
  return "<h2 id=\"tensors\">Every tensor pair</h2><p>Click a column to sort. p: the pair's own test against "
         "the draws of its unit's symmetry (the verdict combines the units); empty: not tested.</p><div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>tensor "
         "(A)</th><th class=\"n\">layer</th><th>role</th><th class=\"n\">expert</th><th>shape</th><th class=\"n\">raw "
         "cosine</th><th class=\"n\">Pearson</th><th class=\"n\">null 99th pct</th><th class=\"n\">z</th><th "
         "class=\"n\">p</th><th class=\"n\">rel. L2</th><th class=\"n\">bitwise equal</th><th>pairing</th></tr></thead>"
         "<tbody>" +
         rows + "</tbody></table></div>";
}

std::string unpaired_section(const std::vector<unpaired_tensor>& unpaired) {
  if (unpaired.empty()) return "";
  std::string rows;
  for (std::size_t i = 0; i < unpaired.size() && i < max_unpaired_rows; ++i) {
    const unpaired_tensor& u = unpaired[i];
    rows += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", e(std::string(1, u.side)), e(u.name), e(u.reason));
  }
  std::string out = fmt::format("<h2 id=\"unpaired\">Tensors without a partner ({})</h2><div class=\"scroll\"><table "
                                "class=\"sortable\"><thead><tr><th>side</th><th>tensor</th><th>why</th></tr></thead><tbody>",
                                unpaired.size()) +
                    rows + "</tbody></table></div>";
  if (unpaired.size() > max_unpaired_rows)
    out += fmt::format("<p>The first {} are shown; all {} are in report.json and report.h5 (/unpaired).</p>",
                       max_unpaired_rows, unpaired.size());
  return out;
}

std::string manifest_section(const run_manifest& m, const content_manifest& content) {
  const std::pair<const char*, std::string> fields[] = {
      {"tool_version", m.tool_version}, {"git_hash", m.git_hash}, {"command_line", m.command_line},
      {"start_time", m.start_time},     {"end_time", m.end_time}, {"host", m.host},
      {"ranks", std::to_string(m.ranks)}, {"kernel", m.kernel},   {"block_elements", std::to_string(m.block_elements)}};
  std::string rows;
  for (const auto& [key, value] : fields) rows += fmt::format("<tr><th>{}</th><td>{}</td></tr>", key, e(value));
  // The manifest's other members, as report.json holds them.
  const std::string rest = fmt::format("<h3>content_digests</h3><pre>{}</pre><h3>sha256_files</h3><pre>{}</pre>",
                                       content.digests, content.sha256);
  return "<h2 id=\"manifest\">Manifest: how this report was made</h2><table><tbody>" + rows + "</tbody></table>" +
         rank_runs_table(m.rank_runs) + "<details><summary>Configuration</summary><pre>" +
         e(json_value(m.config_json).dump(2)) + "</pre></details><details><summary>More</summary>" + rest + "</details>";
}

}  // namespace lineage::html
