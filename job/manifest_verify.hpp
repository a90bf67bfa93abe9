#pragma once
// A model directory against one model of a report's manifest (`lineage verify`): every recorded
// range hashed again from the directory's safetensors files, every tensor's name, dtype, shape and
// digest, and every recorded file's size and SHA-256 (when the report has them).
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "checkpoint/checkpoint.hpp"
#include "checkpoint/mapped_file.hpp"
#include "report/manifest_reader.hpp"

namespace lineage {

struct verify_counts {
  std::uint64_t tensors = 0, ranges = 0, files = 0, files_sha256 = 0;  // compared
  std::uint64_t changed = 0, missing = 0, extra = 0, retyped = 0;      // tensors that differ
  std::uint64_t files_differing = 0;
};

struct verify_result {
  std::vector<std::string> mismatches;  // one line each, naming the tensor or file
  verify_counts counts;
  [[nodiscard]] bool matches() const noexcept { return mismatches.empty(); }
};

// Hashes of a checkpoint's bytes, each computed once however many models of the manifest are
// checked against it.
class checkpoint_hashes {
 public:
  explicit checkpoint_hashes(const checkpoint& model) : model_(model) {}
  // XXH3-64 of bytes [offset, offset + length) of tensor `tensor`'s data (within its bytes).
  std::uint64_t range(std::size_t tensor, std::uint64_t offset, std::uint64_t length);
  // SHA-256 of a file.
  const std::string& sha256(const std::string& path);
  [[nodiscard]] const checkpoint& model() const noexcept { return model_; }

 private:
  const checkpoint& model_;
  std::map<std::uint32_t, std::unique_ptr<read_only_file>> open_;
  std::map<std::tuple<std::size_t, std::uint64_t, std::uint64_t>, std::uint64_t> ranges_;
  std::map<std::string, std::string> files_;
};

// `recorded` against the checkpoint `hashes` reads.
verify_result verify_model(const recorded_model& recorded, checkpoint_hashes& hashes);

// How many of `recorded`'s tensor names the checkpoint has, and whether the name sets are equal.
std::pair<std::size_t, bool> names_in_common(const recorded_model& recorded, const checkpoint& model);

}  // namespace lineage
