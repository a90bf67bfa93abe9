// report.json's document as `lineage report` and the compare job read it back from a report.h5
// (report/report_json_read*, read_report_json). fuzz_report_h5's mutations stop at the file's
// SHA-256 seal, so they do not reach this reader: its bytes are fuzzed here directly, through the
// same call (parse, read into the model, write again and compare).
#include <string>

#include "fuzz/fuzz_support.hpp"
#include "report/report_json_read.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(lineage::fuzz::text_of(data, size));
  lineage::fuzz::expect_success_or_input_error(
      [&] { (void)lineage::read_report_json(text, "fuzz/report.h5: /report_json"); });
  return 0;
}
