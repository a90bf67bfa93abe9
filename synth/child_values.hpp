#pragma once
// The values of one planned child tensor (derive_plan.hpp) from the parent's bytes. Rows and
// columns move as bytes and appended rows are encoded in the parent's dtype, so a tensor is a
// bit-for-bit copy unless a value change or a new dtype asks for decoding; then it is computed in
// float and rounded once to the output dtype.
#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "synth/derive_plan.hpp"
#include "synth/hidden_rotation.hpp"
#include "synth/model_reader.hpp"
#include "synth/synth.hpp"

namespace lineage::synth {

class child_value_writer {
 public:
  // `strength` is the kind's checked size (derive_options.hpp). Holds references to both.
  child_value_writer(const stored_model& parent, const derivation& how, double strength);

  // Fills `out` (exactly planned.target.byte_length() bytes).
  void fill(const child_tensor& planned, std::span<std::byte> out);

 private:
  void move_bytes(const child_tensor& planned, const stored_tensor& source);
  void negate(const child_tensor& planned, std::size_t width);  // in the moved bytes, `width` each
  void change_values(const child_tensor& planned, const stored_tensor& source);
  void fold_and_rotate(const child_tensor& planned);  // in double, on values_
  const std::vector<double>& norm_values(std::size_t index);
  const rotation_matrix& rotation(std::uint64_t hidden);

  const stored_model& parent_;
  const derivation& how_;
  double strength_;
  std::vector<std::byte> bytes_, scratch_;
  std::vector<float> values_, drawn_;
  std::vector<double> wide_;
  std::map<std::size_t, std::vector<double>> norms_;  // fold-norms: the parent's norms, by index
  std::optional<rotation_matrix> rotation_;           // rotate-hidden: built once, at first use
};

// out[r][j] = in[r][columns[j]] for the rows of `in`, each of `in_columns` elements of `width`
// bytes.
void gather_columns(std::span<const std::byte> in, std::uint64_t in_columns, std::size_t width,
                    std::span<const std::uint64_t> columns, std::vector<std::byte>& out);

}  // namespace lineage::synth
