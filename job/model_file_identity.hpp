#pragma once
// What identifies a model file's bytes without reading them again: device, inode, size and
// modification time. Rank 0 records them when it plans and checks them before it writes the
// report, so that a file replaced (another inode: a mapped read keeps reading the old one, and the
// run would end without a word) or modified in place during the run makes the run fail with a
// named error instead of a report of bytes that are no longer there.
#include <string>
#include <vector>

namespace lineage {

struct model_file_identity {
  std::string path;
  unsigned long long device = 0, inode = 0, size = 0;
  long long modified_seconds = 0, modified_nanoseconds = 0;
};

// The identities of `paths` now. Throws input_error naming a file that cannot be examined.
[[nodiscard]] std::vector<model_file_identity> model_file_identities(const std::vector<std::string>& paths);

// Throws input_error naming the first file whose identity changed since `recorded`.
void check_model_files_unchanged(const std::vector<model_file_identity>& recorded);

}  // namespace lineage
