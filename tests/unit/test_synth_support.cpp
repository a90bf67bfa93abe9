#include "test_synth_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "core/dtype.hpp"
#include "app/synth_command.hpp"

namespace synth_test {

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw std::runtime_error("cannot open " + path.string());
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

nlohmann::json read_json(const std::filesystem::path& path) {
  return nlohmann::json::parse(read_bytes(path));
}

raw_file parse_safetensors(const std::filesystem::path& path) {
  const std::string bytes = read_bytes(path);
  raw_file file;
  if (bytes.size() < 8) throw std::runtime_error(path.string() + ": shorter than 8 bytes");
  for (int i = 7; i >= 0; --i)
    file.header_length =
        (file.header_length << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  if (8 + file.header_length > bytes.size())
    throw std::runtime_error(path.string() + ": header past end");
  file.header = nlohmann::json::parse(bytes.substr(8, file.header_length));
  const std::size_t data_start = 8 + file.header_length;
  file.data_length = bytes.size() - data_start;
  for (const auto& [name, entry] : file.header.items()) {
    if (name == "__metadata__") continue;
    raw_tensor tensor;
    tensor.dtype = entry.at("dtype").get<std::string>();
    tensor.shape = entry.at("shape").get<std::vector<std::uint64_t>>();
    tensor.begin = entry.at("data_offsets").at(0).get<std::uint64_t>();
    tensor.end = entry.at("data_offsets").at(1).get<std::uint64_t>();
    if (tensor.end > file.data_length || tensor.begin > tensor.end)
      throw std::runtime_error(path.string() + ": bad offsets of " + name);
    tensor.bytes = bytes.substr(data_start + tensor.begin, tensor.end - tensor.begin);
    file.tensors.emplace(name, std::move(tensor));
  }
  return file;
}

std::map<std::string, raw_tensor> read_model(const std::filesystem::path& dir) {
  std::vector<std::string> files;
  if (std::filesystem::exists(dir / "model.safetensors.index.json")) {
    const auto index = read_json(dir / "model.safetensors.index.json");
    for (const auto& [name, file] : index.at("weight_map").items())
      files.push_back(file.get<std::string>());
    std::sort(files.begin(), files.end());
    files.erase(std::unique(files.begin(), files.end()), files.end());
  } else {
    files.push_back("model.safetensors");
  }
  std::map<std::string, raw_tensor> tensors;
  for (const auto& file : files)
    for (auto& [name, tensor] : parse_safetensors(dir / file).tensors)
      if (!tensors.emplace(name, std::move(tensor)).second)
        throw std::runtime_error("tensor " + name + " in two files");
  return tensors;
}

std::vector<double> values_of(const raw_tensor& tensor) {
  std::vector<double> values;
  const char* data = tensor.bytes.data();
  auto each = [&](std::size_t width, auto decode) {
    for (std::size_t i = 0; i + width <= tensor.bytes.size(); i += width)
      values.push_back(decode(data + i));
  };
  if (tensor.dtype == "BF16" || tensor.dtype == "F16") {
    const bool bf16 = tensor.dtype == "BF16";
    each(2, [&](const char* p) {
      std::uint16_t bits;
      std::memcpy(&bits, p, 2);
      return static_cast<double>(bf16 ? lineage::bf16_to_float(bits) : lineage::f16_to_float(bits));
    });
  } else if (tensor.dtype == "F32") {
    each(4, [](const char* p) {
      float v;
      std::memcpy(&v, p, 4);
      return static_cast<double>(v);
    });
  } else if (tensor.dtype == "F64") {
    each(8, [](const char* p) {
      double v;
      std::memcpy(&v, p, 8);
      return v;
    });
  } else {
    throw std::runtime_error("values_of: unsupported dtype " + tensor.dtype);
  }
  return values;
}

namespace {
double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
  return sum;
}
std::vector<double> centred(std::vector<double> v) {
  double mean = 0;
  for (const double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  for (double& x : v) x -= mean;
  return v;
}
}  // namespace

double cosine(const std::vector<double>& a, const std::vector<double>& b) {
  return dot(a, b) / std::sqrt(dot(a, a) * dot(b, b));
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  return cosine(centred(a), centred(b));
}

double relative_l2(const std::vector<double>& a, const std::vector<double>& b) {
  double difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i) difference += (b[i] - a[i]) * (b[i] - a[i]);
  return std::sqrt(difference / dot(a, a));
}

namespace {

std::filesystem::path test_work_dir(const ::testing::TestInfo& info) {
  return std::filesystem::path(LINEAGE_BINARY_DIR) / "synth-test-work" /
         (std::string(info.test_suite_name()) + "." + info.name());
}

// Models of a passed test are deleted (they add up to 100+ MB); a failed test's stay for a look.
class remove_work_of_passed_tests : public ::testing::EmptyTestEventListener {
  void OnTestEnd(const ::testing::TestInfo& info) override {
    std::error_code ignored;
    if (info.result()->Passed()) std::filesystem::remove_all(test_work_dir(info), ignored);
  }
};

const bool cleanup_registered = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new remove_work_of_passed_tests);
  return true;
}();

}  // namespace

std::filesystem::path scratch_dir(const std::string& label) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  if (!info) throw std::runtime_error("scratch_dir called outside a test");
  const auto dir = test_work_dir(*info) / label;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::vector<std::string> model_file_names(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

lineage::synth::derivation derivation_of(lineage::synth::derivation_kind kind, std::uint64_t seed) {
  lineage::synth::derivation how;
  how.kind = kind;
  how.seed = seed;
  return how;
}

std::filesystem::path derive(const std::filesystem::path& parent, const lineage::synth::derivation& how,
                             const std::string& label) {
  const auto out = scratch_dir(label);
  lineage::synth::write_derived_model(parent, out, how);
  return out;
}

int run_cli(std::vector<std::string> arguments) {
  CLI::App app("lineage");
  auto synth = lineage::add_synth_command(app);
  arguments.insert(arguments.begin(), "lineage");
  std::vector<const char*> argv;
  for (const auto& argument : arguments) argv.push_back(argument.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return synth.run();
}

lineage::synth::model_shape dense_test_shape() {
  lineage::synth::model_shape shape;
  shape.layers = 2;
  shape.hidden = 32;
  shape.intermediate = 48;
  shape.heads = 8;
  shape.kv_heads = 2;
  shape.vocab = 64;
  return shape;
}

lineage::synth::model_shape moe_test_shape(std::uint64_t experts, std::uint64_t shared) {
  lineage::synth::model_shape shape;
  shape.layers = 3;
  shape.hidden = 32;
  shape.intermediate = 48;
  shape.heads = 4;
  shape.kv_heads = 2;
  shape.vocab = 64;
  shape.experts = experts;
  shape.expert_intermediate = 16;
  shape.shared_experts = shared;
  shape.dense_layers = 1;
  shape.mtp = true;
  return shape;
}

}  // namespace synth_test
