#include "report/rendered_reports.hpp"

#include "report/report_document.hpp"
#include "report/report_html.hpp"

namespace lineage {

rendered_reports::rendered_reports(const std::filesystem::path& report_h5, const std::filesystem::path& out) {
  const report_document document = read_report_document(report_h5);
  html_.emplace(out / "report.html");
  markdown_.emplace(out / "report.md");
  html_->write(report_html(document.model, document.pearson_null));
  markdown_->write(report_markdown(document.model, document.pearson_null));
}

void rendered_reports::commit() {
  html_->commit();
  markdown_->commit();
}

}  // namespace lineage
