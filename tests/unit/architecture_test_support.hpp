#pragma once
// Shared by the architecture tests (test_architecture_map.cpp, test_architecture_rules.cpp): the
// embedded rules, the keys of tensor names, and rule files written for one test.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "arch/architecture_map.hpp"

namespace lineage {

// Generated from configs/architectures/*.yaml (cmake/EmbedFiles.cmake).
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_architecture_files();

void PrintTo(const tensor_key& key, std::ostream* out);

namespace arch_test {

using nlohmann::json;

const architecture_registry& embedded_rules();
const architecture& family(std::string_view model_type);
// The single key of a tensor that is not split.
tensor_key key_of(const architecture& rules, std::string_view name, const json& config = json::object());

struct expected_key {
  std::string name;
  tensor_key key;
};

void expect_keys(std::string_view model_type, const json& config, const std::vector<expected_key>& expected);
// The message of the input_error `action` throws; fails the test when it throws nothing or another type.
std::string input_error_message(const std::function<void()>& action);
void expect_mentions(const std::string& message, std::initializer_list<std::string_view> parts);

// A fresh directory of rule files, removed at the end of the test.
class rule_directory {
 public:
  rule_directory() {
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    path_ = std::filesystem::temp_directory_path() / ("lineage-arch-" + test + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~rule_directory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  rule_directory(const rule_directory&) = delete;
  rule_directory& operator=(const rule_directory&) = delete;

  void write(const std::string& file, std::string_view text) const {
    std::ofstream(path_ / file, std::ios::binary) << text;
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline constexpr std::string_view minimal_rules = R"(model_types: [toy]
rules:
  - match: "model.layers.{layer}.input_layernorm.weight"
    role: input_layernorm.weight
)";

// The error of loading a directory that holds only `yaml_text` as `file`.
std::string load_error(std::string_view yaml_text, const std::string& file = "broken.yaml");

}  // namespace arch_test
}  // namespace lineage
