// The JSON header of a safetensors file (checkpoint/safetensors_header): its tensors' dtypes, shapes and
// byte ranges checked against a data section of the size the input implies.
#include "checkpoint/safetensors_header.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = lineage::fuzz::text_of(data, size);
  // The data section: as long again as the header, so that byte ranges can fit or not.
  lineage::fuzz::expect_success_or_input_error(
      [&] { (void)lineage::parse_safetensors_header(text, 8 + 2 * text.size(), "fuzz.safetensors"); });
  return 0;
}
