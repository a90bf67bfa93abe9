#pragma once
// report.html and report.md rendered from a report.h5 alone: `lineage report` renders them again
// this way, and the compare job the same way, so both give the same bytes.
#include <filesystem>
#include <optional>

#include "core/atomic_output.hpp"

namespace lineage {

// report.html and report.md rendered from `report_h5` into temporary files in `out`; commit()
// gives them their final names. Throws input_error naming the file on a bad report.h5.
class rendered_reports {
 public:
  rendered_reports(const std::filesystem::path& report_h5, const std::filesystem::path& out);
  void commit();

 private:
  std::optional<atomic_output> html_, markdown_;
};

}  // namespace lineage
