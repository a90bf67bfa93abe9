#include "fuzz/fuzz_support.hpp"

#include <unistd.h>

#include <fstream>
#include <string>

namespace lineage::fuzz {

const std::filesystem::path& scratch_directory() {
  static const std::filesystem::path directory = [] {
    std::error_code error;
    const std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm", error) ? std::filesystem::path("/dev/shm")
                                                          : std::filesystem::temp_directory_path();
    const std::filesystem::path made = base / ("lineage-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(made);
    return made;
  }();
  return directory;
}

std::filesystem::path scratch_file(const std::string& name, std::string_view bytes) {
  const std::filesystem::path path = scratch_directory() / name;
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

}  // namespace lineage::fuzz
