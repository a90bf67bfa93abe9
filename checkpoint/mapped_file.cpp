#include "checkpoint/mapped_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <system_error>
#include <utility>

#include "core/error.hpp"

namespace lineage {
namespace {

// "No such file or directory" -> "no such file or directory": the message continues a sentence.
std::string errno_text(int error_number) {
  std::string text = std::generic_category().message(error_number);
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') {
    text[0] = static_cast<char>(text[0] - 'A' + 'a');
  }
  return text;
}

std::uint64_t page_size() {
  static const std::uint64_t size = [] {
    const long reported = ::sysconf(_SC_PAGESIZE);
    return reported > 0 ? static_cast<std::uint64_t>(reported) : std::uint64_t{4096};
  }();
  return size;
}

// Offsets reach the kernel as off_t and lengths as size_t; a lying header must not wrap either.
constexpr std::uint64_t max_offset = static_cast<std::uint64_t>(std::numeric_limits<off_t>::max());

}  // namespace

read_only_file::read_only_file(const std::filesystem::path& path) : path_(path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer before we could see
  // (with fstat) that it is not a regular file. It has no effect on reads of regular files.
  do {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  } while (fd_ < 0 && errno == EINTR);
  if (fd_ < 0) {
    const int open_errno = errno;
    throw input_error(fmt::format("{}: cannot open: {}", path.string(), errno_text(open_errno)));
  }
  struct stat info {};
  if (::fstat(fd_, &info) != 0) {
    const int stat_errno = errno;
    ::close(fd_);
    fd_ = -1;
    throw input_error(fmt::format("{}: cannot stat: {}", path.string(), errno_text(stat_errno)));
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw input_error(fmt::format("{}: not a regular file", path.string()));
  }
  size_ = static_cast<std::uint64_t>(info.st_size);
  // Back to ordinary blocking reads, in case some file system honours O_NONBLOCK for files.
  const int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
}

read_only_file::read_only_file(read_only_file&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      size_(std::exchange(other.size_, 0)) {}

read_only_file& read_only_file::operator=(read_only_file&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

read_only_file::~read_only_file() {
  if (fd_ >= 0) ::close(fd_);
}

void read_only_file::read_exact(std::uint64_t offset, std::span<std::byte> out) const {
  const std::uint64_t length = out.size();
  if (offset > size_ || length > size_ - offset) {
    throw input_error(fmt::format("{}: cannot read bytes [{}, {}): the file has only {} bytes",
                                  path_.string(), offset, offset + length, size_));
  }
  std::uint64_t done = 0;
  while (done < length) {
    const ssize_t got = ::pread(fd_, out.data() + done, static_cast<std::size_t>(length - done),
                                static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      const int read_errno = errno;
      throw input_error(fmt::format("{}: read failed at byte {}: {}", path_.string(), offset + done,
                                    errno_text(read_errno)));
    }
    if (got == 0) {
      // The file shrank after we opened it.
      throw input_error(fmt::format("{}: unexpected end of file at byte {} (wanted bytes [{}, {}))",
                                    path_.string(), offset + done, offset, offset + length));
    }
    done += static_cast<std::uint64_t>(got);
  }
}

mapped_range::mapped_range(const read_only_file& file, std::uint64_t offset, std::uint64_t length) {
  if (offset > file.size() || length > file.size() - offset) {
    throw input_error(fmt::format("{}: cannot map bytes [{}, {}): the file has only {} bytes",
                                  file.path().string(), offset, offset + length, file.size()));
  }
  if (length == 0) return;  // mmap rejects empty mappings; an empty span needs none
  const std::uint64_t window_start = offset - offset % page_size();
  const std::uint64_t window_length = length + (offset - window_start);
  if (window_start > max_offset || window_length > std::numeric_limits<std::size_t>::max()) {
    throw input_error(fmt::format("{}: cannot map bytes [{}, {}): range too large",
                                  file.path().string(), offset, offset + length));
  }
  void* base = ::mmap(nullptr, static_cast<std::size_t>(window_length), PROT_READ, MAP_PRIVATE,
                      file.descriptor(), static_cast<off_t>(window_start));
  if (base == MAP_FAILED) {
    const int map_errno = errno;
    throw input_error(fmt::format("{}: cannot map bytes [{}, {}): {}", file.path().string(), offset,
                                  offset + length, errno_text(map_errno)));
  }
  base_ = base;
  mapped_length_ = static_cast<std::size_t>(window_length);
  data_ = static_cast<const std::byte*>(base) + (offset - window_start);
  length_ = static_cast<std::size_t>(length);
  guard_ = mapping_guard(base_, mapped_length_, file.path());
}

mapped_range::mapped_range(mapped_range&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      mapped_length_(std::exchange(other.mapped_length_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      length_(std::exchange(other.length_, 0)),
      guard_(std::move(other.guard_)) {}

mapped_range& mapped_range::operator=(mapped_range&& other) noexcept {
  if (this != &other) {
    if (base_ != nullptr) ::munmap(base_, mapped_length_);
    base_ = std::exchange(other.base_, nullptr);
    mapped_length_ = std::exchange(other.mapped_length_, 0);
    data_ = std::exchange(other.data_, nullptr);
    length_ = std::exchange(other.length_, 0);
    guard_ = std::move(other.guard_);
  }
  return *this;
}

void mapped_range::release() const noexcept {
  if (base_ != nullptr) ::madvise(base_, mapped_length_, MADV_DONTNEED);
}

mapped_range::~mapped_range() {
  if (base_ != nullptr) ::munmap(base_, mapped_length_);
}

}  // namespace lineage
