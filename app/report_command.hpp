#pragma once
// `lineage report report.h5 [-o DIR]`: renders report.html and report.md again from a report.h5
// alone (into DIR, default the file's own directory), by report/rendered_reports. No MPI needed.
#include "app/command.hpp"

namespace lineage {

command add_report_command(CLI::App& parent);

}  // namespace lineage
