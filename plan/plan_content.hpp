#pragma once
// Planning the manifest's hashes (content_plan.hpp) once the blocks are made.
#include "plan/plan.hpp"

namespace lineage {

// Fills plan.content for `options`: both models' tensors and files, the hashed ranges (the blocks'
// own, then pieces of at most plan.block_elements elements over every byte no block reads) and the
// content units (the pieces, and with options.sha256 one per file). Call after the blocks are made.
// The units are dealt to ranks by assign_units.
void plan_content(work_plan& plan, const checkpoint& a, const checkpoint& b, const content_options& options);

}  // namespace lineage
