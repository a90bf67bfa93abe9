#include "core/atomic_output.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "core/error.hpp"

namespace lineage {

atomic_output::atomic_output(std::filesystem::path final_path)
    : final_(std::move(final_path)),
      temporary_(final_.parent_path() /
                 fmt::format(".{}.partial-{}", final_.filename().string(), ::getpid())) {}

atomic_output::~atomic_output() {
  if (!committed_) {
    std::error_code ignored;
    std::filesystem::remove(temporary_, ignored);
  }
}

void atomic_output::commit() {
  std::error_code ec;
  std::filesystem::rename(temporary_, final_, ec);
  if (ec) throw input_error(fmt::format("{}: cannot move the finished output into place: {}",
                                        final_.string(), ec.message()));
  committed_ = true;
}

void write_file_atomically(const std::filesystem::path& path, const std::string& text) {
  atomic_output output(path);
  {
    std::ofstream stream(output.temporary_path(), std::ios::binary | std::ios::trunc);
    if (!stream)
      throw input_error(fmt::format("{}: cannot create file: {}", output.temporary_path().string(),
                                    std::strerror(errno)));
    stream.write(text.data(), static_cast<std::streamsize>(text.size()));
    stream.flush();
    if (!stream) throw input_error(fmt::format("{}: write failed", output.temporary_path().string()));
  }
  output.commit();
}

void ensure_writable_directory(const std::filesystem::path& directory) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec)
    throw input_error(
        fmt::format("{}: cannot create the output directory: {}", directory.string(), ec.message()));
  if (!std::filesystem::is_directory(directory))
    throw input_error(fmt::format("{}: output path exists and is not a directory", directory.string()));
  const auto probe = directory / fmt::format(".lineage-write-probe-{}", ::getpid());
  {
    std::ofstream stream(probe, std::ios::binary | std::ios::trunc);
    if (!stream)
      throw input_error(fmt::format("{}: output directory is not writable: {}", directory.string(),
                                    std::strerror(errno)));
  }
  std::filesystem::remove(probe, ec);
}

}  // namespace lineage
