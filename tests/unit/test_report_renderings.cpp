// report.html and report.md read the typed report model: a figure report.json writes only when its
// test was available shows "–" when it was not, whatever the struct holds.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "report/rank_run_rows.hpp"
#include "report/report_html.hpp"

namespace lineage {
namespace {

comparison_report small_report() {
  comparison_report report;
  report.model_a.path = "models/<a>";
  report.model_b.path = "models/b";
  tensor_result t;
  t.pair.a.name = "layers.0.mlp.w";
  t.pair.key = {0, "mlp", -1};
  t.pair.a.shape = {4, 8};
  t.figures.cosine = NAN;
  t.figures.pearson = 0.5;
  t.null.available = false;  // its z and p are not figures of a test
  t.null.z = 3;
  t.null.p_value = 0.01;
  report.tensors.push_back(t);
  unit_figures u;
  u.label = "layer 0 mlp neurons";
  u.available = false;
  u.reason = "fewer than two units";
  u.z = 7;
  report.units.push_back(u);
  return report;
}

TEST(ReportRenderings, UntestedFiguresShowADash) {
  const comparison_report report = small_report();
  const std::string page = report_html(report, {{}});
  EXPECT_NE(page.find("<td>layers.0.mlp.w</td><td class=\"n\">0</td><td>mlp</td><td class=\"n\">–</td><td>4 × 8</td>"
                      "<td class=\"n\">–</td><td class=\"n\">0.5000</td><td class=\"n\">–</td><td class=\"n\">–</td>"
                      "<td class=\"n\">–</td>"),
            std::string::npos);
  EXPECT_NE(page.find("<td class=\"n\">–</td><td class=\"n\">–</td><td class=\"n\">1</td><td>fewer than two units</td>"),
            std::string::npos);
  EXPECT_EQ(page.find("id=\"nulls\""), std::string::npos);  // no null samples: no histogram
}

TEST(ReportRenderings, TextIsEscaped) {
  const std::string page = report_html(small_report(), {{}});
  EXPECT_EQ(page.find("models/<a>"), std::string::npos);
  EXPECT_NE(page.find("models/&lt;a&gt;"), std::string::npos);
}

TEST(ReportRenderings, HistogramOfATensorWithNullSamples) {
  comparison_report report = small_report();
  report.tensors[0].null.available = true;
  report.tensors[0].null.permutations = 3;
  const std::string page = report_html(report, {{0.1, -0.2, 0.05}});
  EXPECT_NE(page.find("id=\"nulls\""), std::string::npos);
  EXPECT_NE(page.find("p = 0.01 from 3 permutations"), std::string::npos);
}

TEST(ReportRenderings, MarkdownTokenizersAndRanks) {
  comparison_report report = small_report();
  report.tokenizers = R"({"available":false,"reason":"no tokenizer.json in B"})";
  rank_run run;
  run.rank = 1;
  run.host = "node7";
  run.seconds_total = 2.5;
  run.bytes_read = 2'000'000'000;
  run.units = 3;
  run.units_resumed = 1;
  run.peak_resident_bytes = std::uint64_t{1} << 30;
  report.manifest.rank_runs.push_back(run);
  const std::string md = report_markdown(report, {{}});
  EXPECT_NE(md.find("- A: models/&lt;a&gt; ()\n"), std::string::npos);
  EXPECT_NE(md.find("## Tokenizers\n\nno tokenizer.json in B\n"), std::string::npos);
  EXPECT_NE(md.find("| 1 | node7 | 0.00 | 0.00 | 0.00 | 0.00 | 0.00 | 2.50 | 2.000 (3, 1) | 1.000 |"), std::string::npos);
}

TEST(ReportRenderings, RankRunRowsOfNoRuns) { EXPECT_TRUE(rank_run_rows(std::vector<rank_run>{}).empty()); }

}  // namespace
}  // namespace lineage
