#pragma once
#include <string_view>

namespace lineage {
// Defined in the build tree's generated/version_info.cpp (cmake/WriteVersionInfo.cmake).
std::string_view tool_version() noexcept;
// The commit the binary was built from, with "-dirty" when the tree had uncommitted changes.
std::string_view git_hash() noexcept;
}  // namespace lineage
