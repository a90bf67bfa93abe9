// report.md: the verdict, its evidence and the key tables, in Markdown to paste into an issue.
#include <fmt/format.h>

#include <cmath>
#include <string>

#include "core/display_text.hpp"
#include "report/legacy/document_fields.hpp"
#include "report/legacy/legacy_report.hpp"
#include "report/verdict_wording.hpp"

namespace lineage {
namespace {

using json = nlohmann::json;
using namespace legacy_document;  // NOLINT: the field readers

std::string count(const json& v) { return legacy_document::integer_text(v); }
// Every string of the document may quote the models' files (tensor names, paths, model types): it
// goes through markdown_text(), which also keeps a table cell from breaking its row.
std::string cell(const std::string& text) { return markdown_text(text); }

}  // namespace

std::string legacy_report_markdown(const report_document& document) {
  const json& report = document.report;
  const json& v = at(report, "verdict");
  const json& models = at(report, "models");
  const json& summary = at(report, "summary");
  std::string md = "# lineage: were model B's weights derived from model A's?\n\n";
  md += fmt::format("- A: {} ({})\n- B: {} ({})\n\n", cell(str(at(models, "a"), "path")),
                    cell(str(at(models, "a"), "model_type")), cell(str(at(models, "b"), "path")),
                    cell(str(at(models, "b"), "model_type")));
  const std::string label = str(v, "label");
  md += fmt::format("## {}\n\n{}\n\n", cell(verdict_headline(label, num(v, "p_global"), num(v, "alpha"))),
                    cell(verdict_meaning(label)));
  std::string carried;
  for (const auto& c : at(v, "carried_by"))
    if (c.is_string()) carried += (carried.empty() ? "" : ", ") + c.get<std::string>();
  if (!carried.empty()) md += "Carried by: " + cell(carried) + ".\n\n";
  for (const auto& line : at(v, "evidence"))
    if (line.is_string()) md += "- " + cell(line.get<std::string>()) + "\n";
  for (const auto& note : at(v, "notes"))
    if (note.is_string()) md += "\n> Note: " + cell(note.get<std::string>()) + "\n";
  std::string untested;
  for (const auto& c : at(v, "invariances_not_tested"))
    if (c.is_string()) untested += (untested.empty() ? "" : "; ") + c.get<std::string>();
  if (!untested.empty()) md += "\nNot tested: " + cell(untested) + ".\n";

  md += fmt::format("\n{} tensor pairs compared ({} element pairs); {} tensors of A and {} of B without a partner.\n",
                    count(at(summary, "tensor_pairs")), count(at(summary, "compared_elements")),
                    count(at(summary, "unpaired_a")), count(at(summary, "unpaired_b")));

  md += "\n## Evidence by family\n\nA family is the units of one kind, combined by Fisher's method; descriptive "
        "families never carry the verdict.\n\n| family | combined | median Pearson | mean null cosine | p | Holm–Šidák p "
        "| strongest |\n|---|---:|---:|---:|---:|---:|---|\n";
  for (const auto& f : at(report, "families")) {
    const bool descriptive = at(f, "descriptive").is_boolean() && at(f, "descriptive").get<bool>();
    md += fmt::format("| {}{} | {} {} | {} | {} | {} ({}) | {}{} | {} |\n", cell(str(f, "name")),
                      descriptive ? " (descriptive)" : "", count(at(f, "tensors")), cell(str(f, "unit")),
                      fixed(num(f, "median_pearson")), fixed(num(f, "mean_null_cosine")), pval(num(f, "p")),
                      cell(str(f, "method")), descriptive ? std::string("—") : pval(num(f, "holm_sidak_p")),
                      at(f, "significant").is_boolean() && at(f, "significant").get<bool>() ? " **" : "",
                      cell(str(f, "strongest")));
  }

  md += "\n## By layer\n\n| layer | units | median Pearson | mean raw cosine | mean null cosine | Fisher p "
        "|\n|---|---:|---:|---:|---:|---:|\n";
  for (const auto& l : at(report, "layers"))
    md += fmt::format("| {} | {} | {} | {} | {} | {} |\n", cell(str(l, "name")), count(at(l, "tensors")),
                      fixed(num(l, "median_pearson")), fixed(num(l, "mean_cosine")), fixed(num(l, "mean_null_cosine")),
                      pval(num(l, "p")));

  const json& tokenizers = at(report, "tokenizers");
  md += "\n## Tokenizers\n\n";
  if (at(tokenizers, "available").is_boolean() && at(tokenizers, "available").get<bool>())
    md += fmt::format("A {} tokens, B {}; {} shared (Jaccard {}), {} with the same id.\n", count(at(tokenizers, "size_a")),
                      count(at(tokenizers, "size_b")), count(at(tokenizers, "shared")), fixed(num(tokenizers, "jaccard")),
                      count(at(tokenizers, "same_id")));
  else
    md += (str(tokenizers, "reason").empty() ? std::string("No tokenizer comparison.") : cell(str(tokenizers, "reason"))) +
          "\n";

  const json& m = at(report, "manifest");
  const std::string command_line = printable(str(m, "command_line"));
  const std::string fence = markdown_fence(command_line);
  md += fmt::format("\n## Manifest\n\nlineage {} ({}), {} ranks on {}, {} to {}.\n\n{}\n{}\n{}\n\nFull figures: "
                    "report.html, report.json and report.h5 beside this file.\n",
                    cell(str(m, "tool_version")), cell(str(m, "git_hash")), count(at(m, "ranks")), cell(str(m, "host")),
                    cell(str(m, "start_time")), cell(str(m, "end_time")), fence, command_line, fence);
  const auto rank_rows = rank_run_rows(m);
  if (!rank_rows.empty()) {
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
  }
  return md;
}

}  // namespace lineage
