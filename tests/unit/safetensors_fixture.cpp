#include "safetensors_fixture.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <stdexcept>

#include "core/error.hpp"

namespace lineage::test {

temp_directory::temp_directory() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string test_name = info != nullptr ? info->name() : "test";
  std::random_device entropy;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = std::filesystem::temp_directory_path() /
                     fmt::format("lineage-{}-{}-{:08x}", test_name, ::getpid(), entropy());
    if (std::filesystem::create_directory(candidate)) {
      path_ = std::move(candidate);
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

temp_directory::~temp_directory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string length_prefix(std::uint64_t json_bytes) {
  std::string bytes(8, '\0');
  for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<char>((json_bytes >> (8 * i)) & 0xFF);
  return bytes;
}

std::string safetensors_bytes(std::string_view header_json, std::string_view data) {
  return length_prefix(header_json.size()) + std::string(header_json) + std::string(data);
}

std::filesystem::path write_file(const std::filesystem::path& path, std::string_view bytes) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
  return path;
}

std::filesystem::path write_f32_file(const std::filesystem::path& path,
                                     const std::vector<std::string>& names) {
  std::string header = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) header += ",";
    header += fmt::format(R"("{}":{{"dtype":"F32","shape":[2],"data_offsets":[{},{}]}})", names[i],
                          8 * i, 8 * (i + 1));
  }
  header += "}";
  return write_file(path, safetensors_bytes(header, std::string(8 * names.size(), '\x01')));
}

::testing::AssertionResult throws_input_error(const std::function<void()>& action,
                                              const std::vector<std::string>& fragments) {
  try {
    action();
  } catch (const lineage::input_error& error) {
    const std::string message = error.what();
    if (message.find('\n') != std::string::npos) {
      return ::testing::AssertionFailure() << "message spans lines: " << message;
    }
    for (const auto& fragment : fragments) {
      if (message.find(fragment) == std::string::npos) {
        return ::testing::AssertionFailure() << "message lacks \"" << fragment << "\": " << message;
      }
    }
    return ::testing::AssertionSuccess() << message;
  } catch (const std::exception& other) {
    return ::testing::AssertionFailure()
           << "threw something other than input_error: " << other.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

}  // namespace lineage::test
