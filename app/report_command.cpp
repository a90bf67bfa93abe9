#include "app/report_command.hpp"

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "core/atomic_output.hpp"
#include "report/rendered_reports.hpp"

namespace lineage {

command add_report_command(CLI::App& parent) {
  struct request {
    std::string report_h5, output;
  };
  auto r = std::make_shared<request>();
  CLI::App* app = parent.add_subcommand(
      "report", "Render report.html and report.md again from a report.h5 alone (no MPI needed)");
  app->add_option("REPORT", r->report_h5, "a report.h5 written by lineage compare")->required();
  app->add_option("-o,--output", r->output, "directory for report.html and report.md (default: REPORT's directory)");
  return {app, [r]() -> int {
            const std::filesystem::path source = r->report_h5;
            const std::filesystem::path out =
                r->output.empty() ? (source.has_parent_path() ? source.parent_path() : std::filesystem::path("."))
                                  : std::filesystem::path(r->output);
            ensure_writable_directory(out);
            rendered_reports rendered(source, out);
            rendered.commit();
            std::cout << "report: " << (out / "report.html").string() << "\n"
                      << "report: " << (out / "report.md").string() << std::endl;
            return 0;
          }};
}

}  // namespace lineage
