#include "synth/child_values.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "synth/derive_options.hpp"
#include "synth/derive_transforms.hpp"
#include "synth/expert_edit.hpp"
#include "synth/norm_rescaling.hpp"
#include "synth/upcycle.hpp"
#include "synth/value_codec.hpp"
#include "synth/vocab_extension.hpp"
#include "synth/weight_names.hpp"

namespace lineage::synth {

namespace {

// w' = w * s for a norm vector; a reader's columns [first, first + |s|) divided by s.
void apply_scaling(std::span<float> values, std::span<const std::uint64_t> shape,
                   std::span<const double> factors, std::uint64_t first_column) {
  if (shape.size() == 1) {
    for (std::size_t i = 0; i < values.size(); ++i)
      values[i] = static_cast<float>(static_cast<double>(values[i]) * factors[i]);
    return;
  }
  const std::size_t columns = static_cast<std::size_t>(shape.back());
  for (std::size_t row_start = 0; row_start < values.size(); row_start += columns)
    for (std::size_t i = 0; i < factors.size(); ++i) {
      float& value = values[row_start + first_column + i];
      value = static_cast<float>(static_cast<double>(value) / factors[i]);
    }
}

}  // namespace

void gather_columns(std::span<const std::byte> in, std::uint64_t in_columns, std::size_t width,
                    std::span<const std::uint64_t> columns, std::vector<std::byte>& out) {
  const std::size_t in_row = static_cast<std::size_t>(in_columns) * width;
  if (in_row == 0 || in.size() % in_row != 0)
    throw internal_error("synth: column gather of a tensor that is not whole rows");
  const std::size_t rows = in.size() / in_row;
  const std::size_t out_row = columns.size() * width;
  out.resize(rows * out_row);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < columns.size(); ++j) {
      if (columns[j] >= in_columns) throw internal_error("synth: source column out of range");
      std::memcpy(out.data() + r * out_row + j * width,
                  in.data() + r * in_row + static_cast<std::size_t>(columns[j]) * width, width);
    }
}

child_value_writer::child_value_writer(const stored_model& parent, const derivation& how,
                                       double strength)
    : parent_(parent), how_(how), strength_(strength) {}

void child_value_writer::move_bytes(const child_tensor& planned, const stored_tensor& source) {
  const std::size_t width = dtype_size(source.type);
  bytes_.resize(source.byte_length);
  read_tensor_bytes(source, bytes_);
  if (!planned.rows.empty()) {
    const std::uint64_t rows = source.shape.empty() ? 1 : source.shape[0];
    scratch_.resize(bytes_.size() / static_cast<std::size_t>(rows) * planned.rows.size());
    gather_rows(bytes_, rows, planned.rows, scratch_);
    bytes_.swap(scratch_);
  }
  if (!planned.columns.empty()) {
    gather_columns(bytes_, source.shape.back(), width, planned.columns, scratch_);
    bytes_.swap(scratch_);
  }
  negate(planned, width);
  if (planned.appended_rows > 0) {
    // New rows are drawn in float and stored in the parent's dtype, after the old bytes.
    values_.resize(bytes_.size() / width);
    decode_values(bytes_, source.type, values_);
    const std::uint64_t columns = planned.target.shape.back();
    drawn_.resize(static_cast<std::size_t>(planned.appended_rows * columns));
    draw_appended_rows(values_, columns, how_.seed, planned.target.name, drawn_);
    const std::size_t old_size = bytes_.size();
    bytes_.resize(old_size + drawn_.size() * width);
    encode_values(drawn_, source.type, std::span(bytes_).subspan(old_size));
  }
  if (bytes_.size() != planned.target.element_count() * width)
    throw internal_error(
        fmt::format("synth: the planned values of {} do not fill its shape", planned.target.name));
}

// Flips the sign bit (the top bit of the little-endian element) of the planned rows and columns.
void child_value_writer::negate(const child_tensor& planned, std::size_t width) {
  if (planned.negated_rows.empty() && planned.negated_columns.empty()) return;
  const auto& shape = planned.target.shape;
  const std::size_t columns = shape.size() == 2 ? static_cast<std::size_t>(shape[1]) : 1;
  const std::size_t rows = bytes_.size() / width / columns;
  const auto flip = [&](std::size_t r, std::size_t c) { bytes_[(r * columns + c) * width + width - 1] ^= std::byte{0x80}; };
  for (const std::uint64_t r : planned.negated_rows)
    for (std::size_t c = 0; c < columns; ++c) flip(static_cast<std::size_t>(r), c);
  for (const std::uint64_t c : planned.negated_columns)
    for (std::size_t r = 0; r < rows; ++r) flip(r, static_cast<std::size_t>(c));
}

// Decodes the moved bytes and applies the tensor's value changes, if any.
void child_value_writer::change_values(const child_tensor& planned, const stored_tensor& source) {
  values_.resize(planned.target.element_count());
  decode_values(bytes_, source.type, values_);
  for (const auto& scaling : planned.scalings)
    apply_scaling(values_, planned.target.shape,
                  norm_factors(how_.seed, strength_, scaling.norm, scaling.length),
                  scaling.first_column);
  if (planned.relative_noise > 0) {
    // Keyed by the child's name: every copy of one dense MLP gets its own noise.
    random_stream stream(how_.seed, "derive upcycle", planned.target.name);
    add_relative_noise(values_, planned.relative_noise, stream);
  }
  if (planned.unit_values) std::fill(values_.begin(), values_.end(), 1.0f);
  if (!planned.folds.empty() || planned.rotation.hidden > 0) fold_and_rotate(planned);
  if (changes_every_value(how_.kind) && classify_weight(source.name).kind != weight_kind::buffer) {
    random_stream stream(how_.seed, fmt::format("derive {}", derivation_kind_name(how_.kind)),
                         source.name);
    if (how_.kind == derivation_kind::noise) add_relative_noise(values_, strength_, stream);
    if (how_.kind == derivation_kind::drift) apply_drift(values_, source.shape, strength_, stream);
  }
}

const std::vector<double>& child_value_writer::norm_values(std::size_t index) {
  auto found = norms_.find(index);
  if (found != norms_.end()) return found->second;
  const stored_tensor& norm = parent_.tensors.at(index);
  std::vector<std::byte> bytes(norm.byte_length);
  read_tensor_bytes(norm, bytes);
  std::vector<float> decoded(norm.element_count());
  decode_values(bytes, norm.type, decoded);
  return norms_.emplace(index, std::vector<double>(decoded.begin(), decoded.end())).first->second;
}

const rotation_matrix& child_value_writer::rotation(std::uint64_t hidden) {
  if (!rotation_ || rotation_->size() != hidden)
    rotation_ = make_rotation(how_.rotation.value_or(hidden_rotation_kind::orthogonal), how_.seed, hidden);
  return *rotation_;
}

// W diag(g) for every norm g the tensor reads, then Q applied to its column blocks and rows: all in
// double, so the child's values are rounded once, when encoded.
void child_value_writer::fold_and_rotate(const child_tensor& planned) {
  const auto& shape = planned.target.shape;
  const std::size_t columns = shape.size() >= 2 ? static_cast<std::size_t>(shape.back()) : 1;
  wide_.assign(values_.begin(), values_.end());
  for (const auto& fold : planned.folds) {
    const auto& factors = norm_values(fold.norm);
    for (std::size_t row_start = 0; row_start < wide_.size(); row_start += columns)
      for (std::size_t i = 0; i < fold.length; ++i) wide_[row_start + fold.first_column + i] *= factors.at(i);
  }
  if (planned.rotation.hidden > 0) {
    const rotation_matrix& q = rotation(planned.rotation.hidden);
    for (const std::uint64_t first : planned.rotation.column_blocks) rotate_column_block(wide_, columns, first, q);
    if (planned.rotation.rows) rotate_rows(wide_, columns, q);
  }
  for (std::size_t i = 0; i < wide_.size(); ++i) values_[i] = static_cast<float>(wide_[i]);
}

void child_value_writer::fill(const child_tensor& planned, std::span<std::byte> out) {
  const output_tensor& target = planned.target;
  if (!planned.source) {
    values_.resize(target.element_count());
    draw_router(target, how_.seed, values_);
    encode_values(values_, target.type, out);
    return;
  }
  const stored_tensor& source = parent_.tensors.at(*planned.source);
  move_bytes(planned, source);
  const bool changes = changes_every_value(how_.kind) || !planned.scalings.empty() || planned.relative_noise > 0 ||
                       planned.unit_values || !planned.folds.empty() || planned.rotation.hidden > 0;
  if (!changes && source.type == target.type) {
    std::memcpy(out.data(), bytes_.data(), out.size());
    return;
  }
  change_values(planned, source);
  encode_values(values_, target.type, out);
}

}  // namespace lineage::synth
