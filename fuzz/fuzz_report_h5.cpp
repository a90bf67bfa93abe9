// A report.h5 handed to `lineage verify`, `lineage report` or `--panel-report` (h5/h5_reader,
// h5/h5_seal): its seal is checked before libhdf5 reads any byte; then the manifest and the
// report document are read back.
#include "fuzz/fuzz_support.hpp"
#include "report/manifest_reader.hpp"
#include "report/report_document.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = lineage::fuzz::scratch_file("report.h5", lineage::fuzz::text_of(data, size));
  lineage::fuzz::expect_success_or_input_error([&] {
    (void)lineage::read_recorded_model(lineage::h5_reader::open(path), 'a');
    (void)lineage::read_report_document(path);
  });
  return 0;
}
