// The YAML job file of `lineage compare --config` (job/job_config): keys, values, lists.
#include "fuzz/fuzz_support.hpp"
#include "job/job_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = lineage::fuzz::scratch_file("job.yaml", lineage::fuzz::text_of(data, size));
  lineage::fuzz::expect_success_or_input_error([&] {
    lineage::compare_arguments arguments;
    arguments.config_file = path.string();
    (void)lineage::resolve_compare_config(arguments);
  });
  return 0;
}
