// A search.h5 handed to `lineage verify --search` (registry/search_record, h5/h5_reader, h5/h5_seal):
// its seal is checked before libhdf5 reads any byte; then the query's files and the members.
#include "fuzz/fuzz_support.hpp"
#include "registry/search_record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = lineage::fuzz::scratch_file("search.h5", lineage::fuzz::text_of(data, size));
  lineage::fuzz::expect_success_or_input_error([&] { (void)lineage::read_search_record(path); });
  return 0;
}
