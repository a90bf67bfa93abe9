#include "job/model_file_identity.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace lineage {
namespace {

model_file_identity identity_of(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0)
    throw input_error(fmt::format("{}: cannot examine the model file: {}", path, std::strerror(errno)));
  return {path,
          static_cast<unsigned long long>(info.st_dev),
          static_cast<unsigned long long>(info.st_ino),
          static_cast<unsigned long long>(info.st_size),
          static_cast<long long>(info.st_mtim.tv_sec),
          static_cast<long long>(info.st_mtim.tv_nsec)};
}

}  // namespace

std::vector<model_file_identity> model_file_identities(const std::vector<std::string>& paths) {
  std::vector<model_file_identity> identities;
  for (const std::string& path : paths) identities.push_back(identity_of(path));
  return identities;
}

void check_model_files_unchanged(const std::vector<model_file_identity>& recorded) {
  for (const model_file_identity& before : recorded) {
    const model_file_identity now = identity_of(before.path);
    const char* what = now.device != before.device || now.inode != before.inode ? "replaced by another file"
                       : now.size != before.size                               ? "changed size"
                       : now.modified_seconds != before.modified_seconds ||
                               now.modified_nanoseconds != before.modified_nanoseconds
                           ? "modified"
                           : nullptr;
    if (what != nullptr)
      throw input_error(fmt::format("{}: {} during the run; the figures would mix old and new bytes, so no report "
                                    "is written (run again)",
                                    before.path, what));
  }
}

}  // namespace lineage
