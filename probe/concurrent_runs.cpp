#include "probe/concurrent_runs.hpp"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <exception>
#include <string>
#include <type_traits>

#include "core/error.hpp"

namespace lineage {
namespace {

// What a child sends back through its pipe.
struct child_report {
  int ok = 0;
  comparison_timing timing;
  std::array<char, 240> message{};
};
static_assert(std::is_trivially_copyable_v<child_report>);

struct child {
  pid_t pid = -1;
  int pipe = -1;
};

[[noreturn]] void run_child(int pipe, const std::function<comparison_timing()>& probe) {
  child_report report;
  try {
    report.timing = probe();
    report.ok = 1;
  } catch (const std::exception& e) {
    std::strncpy(report.message.data(), e.what(), report.message.size() - 1);
  }
  const auto* bytes = reinterpret_cast<const char*>(&report);
  std::size_t sent = 0;
  while (sent < sizeof report) {
    const ssize_t n = ::write(pipe, bytes + sent, sizeof report - sent);
    if (n <= 0 && errno != EINTR) break;
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  ::_exit(report.ok == 1 ? 0 : 1);  // no destructor of the parent's objects runs here
}

child start_child(const std::function<comparison_timing()>& probe) {
  int fds[2];
  if (::pipe(fds) != 0) throw internal_error(fmt::format("speed probe: pipe: {}", std::strerror(errno)));
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw internal_error(fmt::format("speed probe: fork: {}", std::strerror(errno)));
  }
  if (pid == 0) {
    ::close(fds[0]);
    run_child(fds[1], probe);
  }
  ::close(fds[1]);
  return {pid, fds[0]};
}

// Reads and reaps one child; an empty message when it reported its phases.
std::string finish_child(const child& c, comparison_timing& out) {
  child_report report;
  auto* bytes = reinterpret_cast<char*>(&report);
  std::size_t got = 0;
  while (got < sizeof report) {
    const ssize_t n = ::read(c.pipe, bytes + got, sizeof report - got);
    if (n == 0 || (n < 0 && errno != EINTR)) break;
    if (n > 0) got += static_cast<std::size_t>(n);
  }
  ::close(c.pipe);
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (got != sizeof report) return "a probe process ended without its timings";
  if (report.ok != 1) {
    report.message.back() = '\0';
    return report.message.data();
  }
  out = report.timing;
  return {};
}

}  // namespace

std::vector<comparison_timing> run_concurrently(int processes, const std::function<comparison_timing()>& probe) {
  std::vector<child> children;
  std::vector<comparison_timing> out(1);
  std::exception_ptr failure;
  try {
    for (int i = 1; i < processes; ++i) children.push_back(start_child(probe));
    out[0] = probe();
  } catch (...) {
    failure = std::current_exception();
  }
  std::string message;
  for (const child& c : children) {
    comparison_timing t;
    const std::string failed = finish_child(c, t);
    if (failed.empty()) out.push_back(t);
    else if (message.empty()) message = failed;
  }
  if (failure) std::rethrow_exception(failure);
  if (!message.empty()) throw internal_error("speed probe: " + message);
  return out;
}

}  // namespace lineage
