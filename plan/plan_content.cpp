#include "plan/plan_content.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <tuple>

#include "core/error.hpp"

namespace lineage {

namespace fs = std::filesystem;

const std::vector<std::string>& manifest_side_files() {
  static const std::vector<std::string> names{"model.safetensors.index.json",
                                              "config.json",
                                              "generation_config.json",
                                              "tokenizer.json",
                                              "tokenizer_config.json",
                                              "special_tokens_map.json",
                                              "added_tokens.json",
                                              "tokenizer.model",
                                              "vocab.json",
                                              "vocab.txt",
                                              "merges.txt"};
  return names;
}

fs::path model_directory(const checkpoint& model) {
  std::error_code error;
  if (!fs::is_regular_file(model.root, error)) return model.root;
  return model.root.has_parent_path() ? model.root.parent_path() : fs::path(".");
}

std::vector<manifest_file> checkpoint_files_of(const checkpoint& model) {
  std::error_code error;
  const fs::path directory = model_directory(model);
  std::vector<manifest_file> files;
  for (const auto& file : model.files) {
    fs::path name = file.path.lexically_relative(directory);
    if (name.empty() || *name.begin() == "..") name = file.path.filename();
    files.push_back({name.generic_string(), file.path.string(), file.size});
  }
  for (const std::string& name : manifest_side_files()) {
    const fs::path path = directory / name;
    if (!fs::is_regular_file(path, error)) continue;
    const std::uint64_t size = fs::file_size(path, error);
    if (error) throw input_error(fmt::format("{}: cannot read its size ({})", path.string(), error.message()));
    files.push_back({name, path.string(), size});
  }
  std::sort(files.begin(), files.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
  return files;
}

std::vector<byte_span> uncovered_pieces(std::vector<byte_span> covered, std::uint64_t size, std::uint64_t piece) {
  if (piece == 0) throw internal_error("uncovered_pieces: pieces must hold at least one byte");
  std::sort(covered.begin(), covered.end(), [](const byte_span& x, const byte_span& y) { return x.offset < y.offset; });
  std::vector<byte_span> pieces;
  const auto cut = [&](std::uint64_t begin, std::uint64_t end) {
    for (std::uint64_t at = begin; at < end; at += piece) pieces.push_back({at, std::min(piece, end - at)});
  };
  std::uint64_t reached = 0;  // [0, reached) is covered or already cut
  for (const byte_span& span : covered) {
    if (span.length == 0) continue;
    if (span.offset > reached) cut(reached, std::min(span.offset, size));
    reached = std::max(reached, span.offset + span.length);
  }
  if (reached < size) cut(reached, size);
  return pieces;
}

namespace {

// Where each tensor of a checkpoint lies: (file, first byte, end, tensor index), sorted.
using tensor_place = std::tuple<std::uint32_t, std::uint64_t, std::uint64_t, std::uint32_t>;

std::vector<tensor_place> places_of(const checkpoint& model) {
  std::vector<tensor_place> places;
  for (std::size_t t = 0; t < model.tensors.size(); ++t) {
    const checkpoint_tensor& tensor = model.tensors[t];
    if (tensor.byte_length() > 0)
      places.emplace_back(tensor.file_index, tensor.byte_offset, tensor.byte_offset + tensor.byte_length(),
                          static_cast<std::uint32_t>(t));
  }
  std::sort(places.begin(), places.end());
  return places;
}

// The tensor holding `bytes` bytes from `at`; a block outside every tensor is a planner bug.
std::uint32_t tensor_holding(const std::vector<tensor_place>& places, const element_location& at, std::uint64_t bytes) {
  const auto after = std::upper_bound(places.begin(), places.end(), at.file, [&](std::uint32_t file, const auto& p) {
    return std::tie(file, at.byte_offset) < std::tie(std::get<0>(p), std::get<1>(p));
  });
  if (after != places.begin()) {
    const auto& [file, begin, end, tensor] = *std::prev(after);
    if (file == at.file && at.byte_offset >= begin && at.byte_offset + bytes <= end) return tensor;
  }
  throw internal_error(
      fmt::format("manifest: a block at byte {} of file {} lies in no tensor", at.byte_offset, at.file));
}

// One range before its index is known: the span and the block that hashes it (or none: a digest unit).
struct range_source {
  byte_span span;
  std::int64_t block = no_range;
};

// Side `side` (0 = A, 1 = B) of plan.content.
void plan_side(work_plan& plan, int side, const checkpoint& model) {
  content_plan& content = plan.content;
  model_content& out = side == 0 ? content.a : content.b;
  out.files = checkpoint_files_of(model);
  for (const auto& file : model.files) {
    const auto found = std::find_if(out.files.begin(), out.files.end(),
                                    [&](const manifest_file& f) { return f.path == file.path.string(); });
    out.weight_files.push_back(static_cast<std::uint32_t>(found - out.files.begin()));
  }
  for (const auto& t : model.tensors)
    out.tensors.push_back({t.name, t.type, t.shape, t.file_index, t.byte_offset, t.byte_length(), 0, 0});
  if (content.options.sha256)
    for (std::size_t f = 0; f < out.files.size(); ++f)
      content.units.push_back({static_cast<std::uint8_t>(side), true, f, out.files[f].size});
  if (!content.options.digests) return;

  // The blocks' ranges, by tensor.
  std::vector<std::vector<range_source>> by_tensor(out.tensors.size());
  const auto places = places_of(model);
  for (std::size_t i = 0; i < plan.blocks.size(); ++i) {
    const work_block& block = plan.blocks[i];
    if (side == 1 && block.alignment >= 0) continue;  // B gathered through an order: not one range
    const element_location& at = side == 0 ? block.a : block.b;
    const std::uint64_t bytes = block.elements * dtype_size(at.type);
    const std::uint32_t t = tensor_holding(places, at, bytes);
    by_tensor[t].push_back({{at.byte_offset - out.tensors[t].byte_offset, bytes}, static_cast<std::int64_t>(i)});
  }
  auto& block_range = side == 0 ? content.block_range_a : content.block_range_b;
  block_range.assign(plan.blocks.size(), no_range);
  for (std::size_t t = 0; t < out.tensors.size(); ++t) {
    manifest_tensor& tensor = out.tensors[t];
    std::vector<range_source>& sources = by_tensor[t];
    std::vector<byte_span> covered;
    for (const auto& source : sources) covered.push_back(source.span);
    const std::uint64_t piece = plan.block_elements * dtype_size(tensor.type);
    for (const byte_span& gap : uncovered_pieces(covered, tensor.bytes, piece)) sources.push_back({gap, no_range});
    std::sort(sources.begin(), sources.end(), [](const range_source& x, const range_source& y) {
      return std::tie(x.span.offset, x.span.length, x.block) < std::tie(y.span.offset, y.span.length, y.block);
    });
    tensor.first_range = out.ranges.size();
    for (std::size_t k = 0; k < sources.size(); ++k) {
      // Two blocks reading the same bytes: the first records the range.
      if (k > 0 && sources[k].span == sources[k - 1].span) continue;
      const auto range = static_cast<std::int64_t>(out.ranges.size());
      out.ranges.push_back({static_cast<std::uint32_t>(t), sources[k].span.offset, sources[k].span.length});
      if (sources[k].block != no_range)
        block_range[static_cast<std::size_t>(sources[k].block)] = range;
      else
        content.units.push_back(
            {static_cast<std::uint8_t>(side), false, static_cast<std::uint64_t>(range), sources[k].span.length});
    }
    tensor.range_count = out.ranges.size() - tensor.first_range;
  }
}

}  // namespace

void plan_content(work_plan& plan, const checkpoint& a, const checkpoint& b, const content_options& options) {
  plan.content = {};
  plan.content.options = options;
  plan_side(plan, 0, a);
  plan_side(plan, 1, b);
}

}  // namespace lineage
