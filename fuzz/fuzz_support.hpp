#pragma once
// What every fuzz target shares. A target feeds the fuzzer's bytes to one reader of untrusted input
// (the way lineage reads that format) and accepts exactly one outcome besides success: an
// input_error (bad input, exit 2). Anything else is a finding: a crash or sanitizer report, an
// internal_error or another exception (the program would exit 1), or a hang or runaway allocation
// (libFuzzer's -timeout and -rss_limit_mb).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace lineage::fuzz {

// The fuzzer's bytes as text.
inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A private scratch directory for targets whose reader takes a path (under $TMPDIR, or /dev/shm
// when it exists: no disk writes per input). Created once per process.
const std::filesystem::path& scratch_directory();

// Writes `bytes` to `name` in the scratch directory and returns its path.
std::filesystem::path scratch_file(const std::string& name, std::string_view bytes);

// Runs `read`; returns normally when it succeeds or throws input_error, aborts with the message on
// any other exception.
template <class Read>
void expect_success_or_input_error(Read&& read) {
  try {
    read();
  } catch (const input_error&) {
    // bad input, refused with its one line: the outcome lineage promises
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz finding: not an input_error: %s\n", e.what());
    std::abort();
  }
}

}  // namespace lineage::fuzz
