#pragma once
// Helpers for the checkpoint reader tests: a scratch directory per test and files written byte by
// byte, so every malformed case is spelled out in the test that uses it.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace lineage::test {

// A fresh directory under the system temporary directory, removed with its contents.
class temp_directory {
 public:
  temp_directory();
  temp_directory(const temp_directory&) = delete;
  temp_directory& operator=(const temp_directory&) = delete;
  ~temp_directory();

  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  [[nodiscard]] std::filesystem::path operator/(std::string_view name) const {
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

// The 8-byte little-endian length prefix of a header of `json_bytes` bytes.
std::string length_prefix(std::uint64_t json_bytes);

// A whole file: prefix, the header JSON exactly as given, then the data section.
std::string safetensors_bytes(std::string_view header_json, std::string_view data = {});

// Writes `bytes` to `path` (creating parent directories) and returns `path`.
std::filesystem::path write_file(const std::filesystem::path& path, std::string_view bytes);

// A valid file holding F32 tensors of shape [2] named `names`, one after the other.
std::filesystem::path write_f32_file(const std::filesystem::path& path,
                                     const std::vector<std::string>& names);

// Succeeds when `action` throws lineage::input_error whose one-line message contains every
// fragment; otherwise says what happened instead.
::testing::AssertionResult throws_input_error(const std::function<void()>& action,
                                              const std::vector<std::string>& fragments);

}  // namespace lineage::test
