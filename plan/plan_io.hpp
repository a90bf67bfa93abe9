#pragma once
// The plan as bytes for the broadcast from rank 0 (Boost.Serialization binary archive). These
// archives only ever travel between ranks of one job; they are never read from files.
#include <vector>

#include "plan/plan.hpp"

namespace lineage {

std::vector<char> serialize_plan(const work_plan& plan);
work_plan deserialize_plan(const std::vector<char>& bytes);

}  // namespace lineage
