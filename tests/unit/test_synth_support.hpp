#pragma once
// Helpers for the synth tests: an independent little safetensors parser (so the tests do not trust
// the code under test to read its own output), statistics in double, and scratch directories.
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "synth/synth.hpp"

namespace synth_test {

struct raw_tensor {
  std::string dtype;
  std::vector<std::uint64_t> shape;
  std::uint64_t begin = 0;  // relative to the data section
  std::uint64_t end = 0;
  std::string bytes;
};

struct raw_file {
  std::uint64_t header_length = 0;
  nlohmann::json header;
  std::uint64_t data_length = 0;
  std::map<std::string, raw_tensor> tensors;
};

std::string read_bytes(const std::filesystem::path& path);
nlohmann::json read_json(const std::filesystem::path& path);
raw_file parse_safetensors(const std::filesystem::path& path);

// Every tensor of a model directory (single file or index + shards), by name.
std::map<std::string, raw_tensor> read_model(const std::filesystem::path& dir);

// Decoded values (BF16, F16, F32, F64), exactly.
std::vector<double> values_of(const raw_tensor& tensor);

double cosine(const std::vector<double>& a, const std::vector<double>& b);
double pearson(const std::vector<double>& a, const std::vector<double>& b);
double relative_l2(const std::vector<double>& a, const std::vector<double>& b);  // |b - a| / |a|

// A fresh, empty directory for the running test (under the build tree).
std::filesystem::path scratch_dir(const std::string& label);

// The safetensors/json files of a model directory, by file name.
std::vector<std::string> model_file_names(const std::filesystem::path& dir);

// Runs `lineage ARGUMENTS...` through the real command line (CLI11 and the synth command).
int run_cli(std::vector<std::string> arguments);

// A small glm4_moe shape: 1 dense layer, MoE layers 1 and 2 of `experts` experts (width 16) and
// `shared` shared ones, and the MTP block (MoE too) as layer 3.
lineage::synth::model_shape moe_test_shape(std::uint64_t experts, std::uint64_t shared);

}  // namespace synth_test
