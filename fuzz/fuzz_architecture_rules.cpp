// An architecture rule file (configs/architectures/*.yaml, or a user's --arch-dir): YAML, name
// patterns, row expressions, axes.
#include "arch/architecture_rules.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lineage::fuzz::expect_success_or_input_error(
      [&] { (void)lineage::parse_architecture_rules("fuzz.yaml", lineage::fuzz::text_of(data, size)); });
  return 0;
}
