#include "checkpoint/mapping_guard.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

#include "core/error.hpp"

namespace lineage {
namespace {

// What the handler reads: lock-free atomics only. `begin` is 0 for a free slot.
struct guarded_range {
  std::atomic<std::uintptr_t> begin{0}, end{0};
  std::atomic<bool> faulted{false};
};

constexpr std::size_t slot_count = 1024;
std::array<guarded_range, slot_count> ranges;
std::atomic<bool> any_fault{false};

// What only threads touch, under the mutex: each slot's file, and the first faulted file whose
// mapping is gone already.
std::mutex registry_mutex;
std::array<std::string, slot_count> files;
std::string released_fault;

void on_sigbus(int signal_number, siginfo_t* info, void* /*context*/) {
  const auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  for (guarded_range& range : ranges) {
    const std::uintptr_t begin = range.begin.load(std::memory_order_acquire);
    if (begin == 0 || address < begin || address >= range.end.load(std::memory_order_acquire)) continue;
    void* zeros = ::mmap(reinterpret_cast<void*>(address - address % page), page, PROT_READ,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (zeros == MAP_FAILED) break;
    range.faulted.store(true, std::memory_order_release);
    any_fault.store(true, std::memory_order_release);
    return;
  }
  ::signal(signal_number, SIG_DFL);  // not a guarded mapping: the default action, as without us
  ::raise(signal_number);
}

void install_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    if (::sigaction(SIGBUS, &action, nullptr) != 0) throw internal_error("cannot install the SIGBUS handler");
  });
}

}  // namespace

mapping_guard::mapping_guard(const void* begin, std::size_t length, const std::filesystem::path& file) {
  if (length == 0) return;
  install_handler();
  const std::lock_guard lock(registry_mutex);
  for (std::size_t i = 0; i < slot_count; ++i) {
    if (ranges[i].begin.load() != 0) continue;
    files[i] = file.string();
    ranges[i].faulted.store(false);
    ranges[i].end.store(reinterpret_cast<std::uintptr_t>(begin) + length);
    ranges[i].begin.store(reinterpret_cast<std::uintptr_t>(begin), std::memory_order_release);
    slot_ = static_cast<int>(i);
    return;
  }
  throw internal_error(fmt::format("more than {} file mappings at once", slot_count));
}

mapping_guard::mapping_guard(mapping_guard&& other) noexcept : slot_(std::exchange(other.slot_, -1)) {}

mapping_guard& mapping_guard::operator=(mapping_guard&& other) noexcept {
  if (this != &other) {
    reset();
    slot_ = std::exchange(other.slot_, -1);
  }
  return *this;
}

mapping_guard::~mapping_guard() { reset(); }

void mapping_guard::reset() noexcept {
  if (slot_ < 0) return;
  const std::lock_guard lock(registry_mutex);
  guarded_range& range = ranges[static_cast<std::size_t>(slot_)];
  if (range.faulted.load() && released_fault.empty()) released_fault = files[static_cast<std::size_t>(slot_)];
  range.begin.store(0, std::memory_order_release);
  range.end.store(0);
  slot_ = -1;
}

void throw_if_a_mapping_faulted() {
  if (!any_fault.load(std::memory_order_acquire)) return;
  std::string file;
  {
    const std::lock_guard lock(registry_mutex);
    file = std::exchange(released_fault, {});
    for (std::size_t i = 0; i < slot_count && file.empty(); ++i)
      if (ranges[i].begin.load() != 0 && ranges[i].faulted.exchange(false)) file = files[i];
    for (guarded_range& range : ranges) range.faulted.store(false);
    any_fault.store(false);
  }
  if (file.empty()) return;
  std::error_code error;
  const auto size = std::filesystem::file_size(file, error);
  throw input_error(fmt::format("{}: the file shrank while it was read ({}); was it truncated or replaced after the "
                                "job started?",
                                file, error ? std::string("it is gone") : fmt::format("it is {} bytes now", size)));
}

}  // namespace lineage
