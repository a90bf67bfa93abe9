#include "core/atomic_output.hpp"

#include <fmt/format.h>
#include <fcntl.h>
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

void atomic_output::write(std::string_view bytes) const { write_file(temporary_, bytes, final_); }

void atomic_output::commit() {
  std::error_code ec;
  std::filesystem::rename(temporary_, final_, ec);
  if (ec) throw input_error(fmt::format("{}: cannot move the finished output into place: {}",
                                        final_.string(), ec.message()));
  committed_ = true;
}

void write_file(const std::filesystem::path& path, std::string_view bytes, const std::filesystem::path& shown) {
  const auto fail = [&](const char* what) {
    return input_error(fmt::format("{}: {}: {}", (shown.empty() ? path : shown).string(), what, std::strerror(errno)));
  };
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw fail("cannot create file");
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const auto error = fail("write failed");
      ::close(fd);
      throw error;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const auto error = fail("write failed");
    ::close(fd);
    throw error;
  }
  if (::close(fd) != 0) throw fail("write failed");
}

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
  atomic_output output(path);
  output.write(bytes);
  output.commit();
}

void ensure_writable_directory(const std::filesystem::path& directory) {
  std::error_code ec;
  if (std::filesystem::exists(directory, ec) && !std::filesystem::is_directory(directory, ec))
    throw input_error(fmt::format("{}: output path exists and is not a directory", directory.string()));
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
