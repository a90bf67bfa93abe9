// A shape list (`lineage plan` on shapes alone, checkpoint/shape_list), then the plan of the model it
// describes against itself: size arithmetic, the block count, the memory model. The plan is made
// for lists of up to 2^34 elements: a valid list of a 10^13-element model plans millions of blocks,
// which is right but takes longer than a fuzz input may (the refusal of absurd block counts is
// e2e.hostile_input's plan_on_an_absurd_shape_list).
#include <algorithm>

#include "arch/architecture_map.hpp"
#include "checkpoint/shape_list.hpp"
#include "fuzz/fuzz_support.hpp"
#include "plan/memory_budget.hpp"
#include "plan/plan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const lineage::architecture_registry registry = lineage::architecture_registry::load(std::nullopt);
  const auto path = lineage::fuzz::scratch_file("shapes.json", lineage::fuzz::text_of(data, size));
  lineage::fuzz::expect_success_or_input_error([&] {
    const lineage::checkpoint model = lineage::read_shape_list(path);
    std::uint64_t elements = 0;
    for (const auto& tensor : model.tensors) elements += std::min<std::uint64_t>(tensor.element_count, 1ull << 40);
    if (elements > (std::uint64_t{1} << 34)) return;
    lineage::plan_options options;
    options.ranks = 2;
    const lineage::work_plan plan = lineage::make_plan(model, model, registry, options);
    (void)lineage::memory_by_unit(plan, {});
  });
  return 0;
}
