#include "plan/plan_views.hpp"

#include "core/random_stream.hpp"

namespace lineage {

planned_tensor plan_side(const side_view& side) {
  const checkpoint_tensor& t = *side.tensor;
  planned_tensor p;
  p.name = side.view.label;
  p.type = t.type;
  p.file = t.file_index;
  p.shape = t.shape;
  if (side.view.whole(t.shape)) {
    p.byte_offset = t.byte_offset;
    p.elements = t.element_count;
    return p;
  }
  const std::uint64_t rows = t.shape.empty() ? 1 : t.shape[0];
  const std::uint64_t row_elements = rows == 0 ? 0 : t.element_count / rows;
  p.shape[0] = side.view.row_end - side.view.row_begin;
  p.byte_offset = t.byte_offset + side.view.row_begin * row_elements * dtype_size(t.type);
  p.elements = p.shape[0] * row_elements;
  return p;
}

element_location location_of(const side_view& side) {
  const planned_tensor t = plan_side(side);
  return {t.file, t.byte_offset, t.type};
}

keyed_views map_side(const checkpoint& model, const architecture* arch) {
  keyed_views by_key;
  for (const auto& tensor : model.tensors) {
    std::vector<tensor_view> views;
    if (arch != nullptr)
      views = arch->map(tensor.name, tensor.shape, model.config);
    else
      views.push_back(map_generic(tensor.name, tensor.shape));
    for (auto& view : views) by_key[view.key].push_back({&tensor, std::move(view)});
  }
  return by_key;
}

unpaired_tensor unpaired(char side, const side_view& v, std::string reason) {
  return {side, v.view.label, v.view.key, v.tensor->type, plan_side(v).shape, std::move(reason)};
}

std::pair<std::uint64_t, std::uint64_t> unit_shape(const planned_tensor& t) {
  const bool matrix = t.shape.size() >= 2 && t.shape[0] >= 2;
  return matrix ? std::pair{t.shape[0], t.elements / t.shape[0]} : std::pair{t.elements, std::uint64_t{1}};
}

std::uint64_t mixed_job_seed(std::uint64_t seed) noexcept { return splitmix64(seed); }

}  // namespace lineage
