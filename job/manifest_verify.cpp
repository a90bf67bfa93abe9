#include "job/manifest_verify.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <set>
#include <string_view>

#include "core/content_hash.hpp"
#include "plan/content_plan.hpp"
#include "report/h5_columns.hpp"

namespace lineage {

namespace fs = std::filesystem;

std::uint64_t checkpoint_hashes::range(std::size_t tensor, std::uint64_t offset, std::uint64_t length) {
  const auto key = std::make_tuple(tensor, offset, length);
  if (const auto found = ranges_.find(key); found != ranges_.end()) return found->second;
  const checkpoint_tensor& t = model_.tensors.at(tensor);
  auto& file = open_[t.file_index];
  if (!file) file = std::make_unique<read_only_file>(model_.files.at(t.file_index).path);
  const mapped_range bytes(*file, t.byte_offset + offset, length);
  const std::uint64_t hash = fast_hash(bytes.bytes());
  throw_if_a_mapping_faulted();
  return ranges_[key] = hash;
}

const std::string& checkpoint_hashes::sha256(const std::string& path) {
  if (const auto found = files_.find(path); found != files_.end()) return found->second;
  return files_[path] = sha256_file(path);
}

std::pair<std::size_t, bool> names_in_common(const recorded_model& recorded, const checkpoint& model) {
  std::set<std::string_view> names;
  for (const auto& t : model.tensors) names.insert(t.name);
  std::size_t common = 0;
  for (const auto& t : recorded.tensors) common += names.contains(t.name) ? 1 : 0;
  return {common, common == recorded.tensors.size() && common == names.size()};
}

namespace {

// One recorded tensor against the checkpoint's tensor `index`.
void verify_tensor(const recorded_tensor& tensor, const std::vector<recorded_range>& ranges, std::size_t index,
                   checkpoint_hashes& hashes, verify_result& result) {
  const checkpoint_tensor& found = hashes.model().tensors[index];
  const std::string dtype(dtype_name(found.type)), shape = shape_text(found.shape);
  const auto line = [&](const std::string& what) {
    result.mismatches.push_back(fmt::format("tensor '{}': {}", tensor.name, what));
  };
  if (dtype != tensor.dtype) line(fmt::format("dtype {} in the manifest, {} here", tensor.dtype, dtype));
  if (shape != tensor.shape) line(fmt::format("shape {} in the manifest, {} here", tensor.shape, shape));
  if (dtype != tensor.dtype || shape != tensor.shape) ++result.counts.retyped;
  if (found.byte_length() != tensor.bytes) {
    if (dtype == tensor.dtype && shape == tensor.shape)
      line(fmt::format("{} bytes in the manifest, {} here", tensor.bytes, found.byte_length()));
    return;  // no range can be compared
  }
  std::uint64_t changed = 0;
  const recorded_range* first = nullptr;
  for (std::uint64_t k = tensor.first_range; k < tensor.first_range + tensor.range_count; ++k) {
    const recorded_range& range = ranges[k];
    ++result.counts.ranges;
    if (hashes.range(index, range.offset, range.length) == range.hash) continue;
    ++changed;
    if (first == nullptr) first = &range;
  }
  if (changed == 0) return;
  ++result.counts.changed;
  line(fmt::format("bytes changed in {} of {} ranges (first: offset {}, {} bytes; xxh3 {} in the manifest, {} here)",
                   changed, tensor.range_count, first->offset, first->length, hash_hex(first->hash),
                   hash_hex(hashes.range(index, first->offset, first->length))));
}

void verify_files(const recorded_model& recorded, checkpoint_hashes& hashes, verify_result& result) {
  const checkpoint& model = hashes.model();
  std::error_code error;
  const fs::path directory = model_directory(model);
  std::set<std::string> names;
  for (const recorded_file& file : recorded.files) {
    names.insert(file.name);
    ++result.counts.files;
    const fs::path path = directory / file.name;
    std::string differs;
    if (!fs::is_regular_file(path, error)) {
      differs = "missing";
    } else if (const std::uint64_t size = fs::file_size(path, error); size != file.size) {
      differs = fmt::format("{} bytes in the manifest, {} here", file.size, size);
    } else if (!file.sha256.empty()) {
      ++result.counts.files_sha256;
      if (const std::string& found = hashes.sha256(path.string()); found != file.sha256)
        differs = fmt::format("SHA-256 {} in the manifest, {} here", file.sha256, found);
    }
    if (differs.empty()) continue;
    ++result.counts.files_differing;
    result.mismatches.push_back(fmt::format("file '{}': {}", file.name, differs));
  }
  for (const manifest_file& file : checkpoint_files_of(model))
    if (!names.contains(file.name)) {
      ++result.counts.files_differing;
      result.mismatches.push_back(fmt::format("file '{}': not in the manifest", file.name));
    }
}

}  // namespace

verify_result verify_model(const recorded_model& recorded, checkpoint_hashes& hashes) {
  const checkpoint& model = hashes.model();
  verify_result result;
  std::map<std::string_view, std::size_t> present;
  for (std::size_t i = 0; i < model.tensors.size(); ++i) present.emplace(model.tensors[i].name, i);
  std::set<std::string_view> recorded_names;
  for (const recorded_tensor& tensor : recorded.tensors) {
    recorded_names.insert(tensor.name);
    ++result.counts.tensors;
    const auto found = present.find(tensor.name);
    if (found == present.end()) {
      ++result.counts.missing;
      result.mismatches.push_back(fmt::format("tensor '{}': missing (the manifest records {} {}, {} bytes)",
                                              tensor.name, tensor.dtype, tensor.shape, tensor.bytes));
      continue;
    }
    verify_tensor(tensor, recorded.ranges, found->second, hashes, result);
  }
  for (const checkpoint_tensor& tensor : model.tensors)
    if (!recorded_names.contains(tensor.name)) {
      ++result.counts.extra;
      result.mismatches.push_back(fmt::format("tensor '{}': not in the manifest ({} {})", tensor.name,
                                              dtype_name(tensor.type), shape_text(tensor.shape)));
    }
  verify_files(recorded, hashes, result);
  return result;
}

}  // namespace lineage
