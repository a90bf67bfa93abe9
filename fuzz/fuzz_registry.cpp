// A registry's registry.json handed to `lineage search` or rewritten by `lineage index`
// (registry/registry_listing): members, their file names (which must stay in the directory) and
// digests.
#include "fuzz/fuzz_support.hpp"
#include "registry/registry_listing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)lineage::fuzz::scratch_file("registry.json", lineage::fuzz::text_of(data, size));
  lineage::fuzz::expect_success_or_input_error([&] { (void)lineage::read_registry(lineage::fuzz::scratch_directory()); });
  return 0;
}
