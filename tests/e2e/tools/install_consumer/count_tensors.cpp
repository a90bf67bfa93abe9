// Prints a checkpoint's tensor and parameter counts through lineage's reader; a bad checkpoint is
// lineage's one-line error and exit 2, as in lineage itself.
#include <cstdint>
#include <iostream>

#include "checkpoint/checkpoint.hpp"
#include "core/error.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: count_tensors CHECKPOINT\n";
    return 2;
  }
  try {
    const lineage::checkpoint model = lineage::open_checkpoint(argv[1]);
    std::uint64_t parameters = 0;
    for (const auto& tensor : model.tensors) parameters += tensor.element_count;
    std::cout << model.tensors.size() << " tensors, " << parameters << " parameters, model_type "
              << model.model_type << "\n";
    return 0;
  } catch (const lineage::error& e) {
    lineage::print_error_line(e.what());
    return static_cast<int>(e.status());
  }
}
