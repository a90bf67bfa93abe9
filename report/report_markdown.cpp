// report.md: the verdict, its evidence and the key tables, in Markdown to paste into an issue.
#include <fmt/format.h>

#include <string>

#include "core/display_text.hpp"
#include "report/number_text.hpp"
#include "report/rank_run_rows.hpp"
#include "report/report_html.hpp"
#include "report/tokenizer_overlap.hpp"
#include "report/verdict_wording.hpp"

namespace lineage {
namespace {

using namespace number_text;  // NOLINT: the number formats

// Every string of the report may quote the models' files (tensor names, paths, model types): it
// goes through markdown_text(), which also keeps a table cell from breaking its row.
std::string cell(const std::string& text) { return markdown_text(text); }

std::string joined(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// The title, the two models, the verdict with its evidence, notes and untested invariances.
std::string verdict_markdown(const comparison_report& report) {
  const verdict_report& v = report.evidence.verdict;
  std::string md = "# lineage: were model B's weights derived from model A's?\n\n";
  md += fmt::format("- A: {} ({})\n- B: {} ({})\n\n", cell(report.model_a.path), cell(report.model_a.model_type),
                    cell(report.model_b.path), cell(report.model_b.model_type));
  md += fmt::format("## {}\n\n{}\n\n",
                    cell(verdict_headline(v.label, finite_or_nan(v.p_global), finite_or_nan(v.alpha))),
                    cell(verdict_meaning(v.label)));
  const std::string carried = joined(v.carried_by, ", ");
  if (!carried.empty()) md += "Carried by: " + cell(carried) + ".\n\n";
  for (const auto& line : v.evidence) md += "- " + cell(line) + "\n";
  for (const auto& note : v.notes) md += "\n> Note: " + cell(note) + "\n";
  const std::string untested = joined(v.invariances_not_tested, "; ");
  if (!untested.empty()) md += "\nNot tested: " + cell(untested) + ".\n";
  md += fmt::format("\n{} tensor pairs compared ({} element pairs); {} tensors of A and {} of B without a partner.\n",
                    report.tensors.size(), report.compared_elements, report.unpaired_a, report.unpaired_b);
  return md;
}

std::string evidence_markdown(const evidence_summary& evidence) {
  std::string md =
      "\n## Evidence by family\n\nA family is the units of one kind, combined by Fisher's method; descriptive "
      "families never carry the verdict.\n\n| family | combined | median Pearson | mean null cosine | p | Holm–Šidák p "
      "| strongest |\n|---|---:|---:|---:|---:|---:|---|\n";
  for (const group_evidence& f : evidence.families)
    md += fmt::format("| {}{} | {} {} | {} | {} | {} ({}) | {}{} | {} |\n", cell(f.name),
                      f.descriptive ? " (descriptive)" : "", f.tensors, cell(f.unit), fixed(f.median_pearson),
                      fixed(f.mean_null_cosine), pval(f.p), cell(f.method),
                      f.descriptive ? std::string("—") : pval(f.adjusted_p), f.significant ? " **" : "",
                      cell(f.strongest));
  md += "\n## By layer\n\n| layer | units | median Pearson | mean raw cosine | mean null cosine | Fisher p "
        "|\n|---|---:|---:|---:|---:|---:|\n";
  for (const group_evidence& l : evidence.layers)
    md += fmt::format("| {} | {} | {} | {} | {} | {} |\n", cell(l.name), l.tensors, fixed(l.median_pearson),
                      fixed(l.mean_cosine), fixed(l.mean_null_cosine), pval(l.p));
  return md;
}

std::string tokenizers_markdown(const tokenizer_overlap& t) {
  std::string md = "\n## Tokenizers\n\n";
  if (t.available)
    return md + fmt::format("A {} tokens, B {}; {} shared (Jaccard {}), {} with the same id.\n", count_text(t.size_a),
                            count_text(t.size_b), count_text(t.shared), fixed(t.jaccard), count_text(t.same_id));
  return md + (t.reason.empty() ? std::string("No tokenizer comparison.") : cell(t.reason)) + "\n";
}

std::string manifest_markdown(const run_manifest& m) {
  const std::string command_line = printable(m.command_line);
  const std::string fence = markdown_fence(command_line);
  std::string md = fmt::format("\n## Manifest\n\nlineage {} ({}), {} ranks on {}, {} to {}.\n\n{}\n{}\n{}\n\nFull figures: "
                               "report.html, report.json and report.h5 beside this file.\n",
                               cell(m.tool_version), cell(m.git_hash), m.ranks, cell(m.host), cell(m.start_time),
                               cell(m.end_time), fence, command_line, fence);
  const auto rank_rows = rank_run_rows(m.rank_runs);
  if (rank_rows.empty()) return md;
  md += "\n### Time, bytes and memory per rank\n\n|";
  for (const char* heading : rank_run_headings) md += fmt::format(" {} |", heading);
  md += "\n|";
  for (std::size_t i = 0; i < std::size(rank_run_headings); ++i) md += i == 1 ? "---|" : "---:|";
  md += "\n";
  for (const rank_run_row& row : rank_rows) {
    md += "|";
    for (const std::string& text : row.cells) md += fmt::format(" {} |", cell(text));
    md += "\n";
  }
  return md;
}

}  // namespace

std::string report_markdown(const comparison_report& report,
                            const std::vector<std::vector<double>>& /*pearson_null: report.md draws no figures*/) {
  return verdict_markdown(report) + evidence_markdown(report.evidence) +
         tokenizers_markdown(read_tokenizer_overlap(report)) + manifest_markdown(report.manifest);
}

}  // namespace lineage
