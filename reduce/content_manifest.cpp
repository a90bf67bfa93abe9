#include "reduce/content_manifest.hpp"

#include <fmt/format.h>

#include <optional>
#include <span>

#include "core/content_hash.hpp"
#include "core/error.hpp"
#include "reduce/block_results.hpp"

namespace lineage {

std::uint64_t tensor_digest(const manifest_tensor& tensor, const std::vector<std::uint64_t>& range_hashes) {
  if (tensor.first_range + tensor.range_count > range_hashes.size())
    throw internal_error(fmt::format("manifest: the ranges of tensor {} lie outside the range table", tensor.name));
  return combine_hashes(std::span(range_hashes).subspan(tensor.first_range, tensor.range_count));
}

namespace {

side_content side_of(const model_content& planned) {
  side_content side;
  side.tensors = planned.tensors;
  side.ranges = planned.ranges;
  side.files = planned.files;
  side.weight_files = planned.weight_files;
  side.sha256.assign(planned.files.size(), std::string());
  return side;
}

// `value` into slot `index` of `slots`, which must be free.
template <typename Value>
void place(std::vector<std::optional<Value>>& slots, std::uint64_t index, Value value, const char* what) {
  if (index >= slots.size() || slots[index])
    throw internal_error(fmt::format("manifest: {} {} reported twice or out of range", what, index));
  slots[index] = std::move(value);
}

}  // namespace

content_manifest content_in_plan_order(const work_plan& plan, const std::vector<rank_results>& per_rank) {
  const content_plan& planned = plan.content;
  content_manifest content;
  content.digests = planned.options.digests;
  content.sha256 = planned.options.sha256;
  content.a = side_of(planned.a);
  content.b = side_of(planned.b);
  std::vector<std::optional<std::uint64_t>> ranges[2] = {
      std::vector<std::optional<std::uint64_t>>(planned.a.ranges.size()),
      std::vector<std::optional<std::uint64_t>>(planned.b.ranges.size())};
  std::vector<std::optional<std::string>> files[2] = {std::vector<std::optional<std::string>>(planned.a.files.size()),
                                                      std::vector<std::optional<std::string>>(planned.b.files.size())};
  for (const rank_results& results : per_rank) {
    for (const range_hash& r : results.range_hashes) {
      if (r.side > 1) throw internal_error("manifest: a range hash of no side");
      place(ranges[r.side], r.range, r.hash, r.side == 0 ? "range of A" : "range of B");
    }
    for (const file_hash& f : results.file_hashes) {
      if (f.side > 1) throw internal_error("manifest: a file hash of no side");
      place(files[f.side], f.file, f.sha256, f.side == 0 ? "file of A" : "file of B");
    }
  }
  for (int s = 0; s < 2; ++s) {
    side_content& side = s == 0 ? content.a : content.b;
    if (content.digests) {
      for (std::size_t i = 0; i < ranges[s].size(); ++i) {
        if (!ranges[s][i])
          throw internal_error(fmt::format("manifest: range {} of model {} was not hashed", i, "AB"[s]));
        side.range_hashes.push_back(*ranges[s][i]);
      }
      for (const manifest_tensor& tensor : side.tensors)
        side.tensor_digests.push_back(tensor_digest(tensor, side.range_hashes));
    }
    if (content.sha256)
      for (std::size_t f = 0; f < files[s].size(); ++f) {
        if (!files[s][f]) throw internal_error(fmt::format("manifest: file {} of model {} was not hashed", f, "AB"[s]));
        side.sha256[f] = *files[s][f];
      }
  }
  return content;
}

}  // namespace lineage
