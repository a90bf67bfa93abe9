#pragma once
// One unit of work: a run of element-aligned pairs of one tensor pair, located in the files of
// model A and model B. Blocks have a fixed element count (the last block of a tensor may be
// shorter) so that their boundaries, and hence every partial sum, do not depend on the rank count.
#include <cstdint>

#include "core/dtype.hpp"

namespace lineage {

struct element_location {
  std::uint32_t file = 0;         // index into the model's file table
  std::uint64_t byte_offset = 0;  // absolute offset of the block's first element
  dtype type = dtype::f32;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & file & byte_offset & type;
  }
};

struct work_block {
  std::uint32_t pair = 0;         // index of the tensor pair in the plan
  std::uint64_t first_element = 0;
  std::uint64_t elements = 0;
  element_location a, b;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & pair & first_element & elements & a & b;
  }
};

}  // namespace lineage
