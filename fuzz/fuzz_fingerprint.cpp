// A NAME.fingerprint.h5 handed to `lineage search`, as a registry member or as the query
// (registry/fingerprint_h5, h5/h5_reader, h5/h5_seal): its seal is checked before libhdf5 reads
// any byte; then every count, layout and value is checked against the others.
#include "fuzz/fuzz_support.hpp"
#include "registry/fingerprint_h5.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = lineage::fuzz::scratch_file("m.fingerprint.h5", lineage::fuzz::text_of(data, size));
  lineage::fuzz::expect_success_or_input_error([&] { (void)lineage::read_fingerprint(path); });
  return 0;
}
