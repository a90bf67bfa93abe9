// tokenizer.json (tokenizer/tokenizer): BPE, Unigram and WordPiece vocabularies, added tokens, merges.
#include "fuzz/fuzz_support.hpp"
#include "tokenizer/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  lineage::fuzz::expect_success_or_input_error(
      [&] { (void)lineage::parse_tokenizer_json(lineage::fuzz::text_of(data, size), "tokenizer.json"); });
  return 0;
}
