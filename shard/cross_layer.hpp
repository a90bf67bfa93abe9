#pragma once
// The layer × layer similarity of one role: every layer of A against every layer of B, on the
// same deterministic sample of rows (all rows of small tensors). It feeds the cross-layer test
// (is the match layer-specific?) and the depth alignment (reduce/).
#include <cstdint>
#include <string>
#include <vector>

#include "shard/work_block.hpp"

namespace lineage {

// At most this many elements per layer enter the matrix.
inline constexpr std::uint64_t cross_layer_sample_elements = std::uint64_t{1} << 16;

struct cross_layer_request {
  std::string role;
  std::vector<std::int32_t> layers_a, layers_b;  // ascending
  std::vector<element_location> a, b;            // first element of each layer's tensor
  std::uint64_t rows = 0, row_length = 0;        // the common shape, as rows × row_length
  std::vector<std::uint32_t> sampled_rows;       // ascending
  // When the plan recovered a hidden-dimension permutation: B's rows that meet the sampled rows
  // and B's column for each column (empty: the same ones).
  std::vector<std::uint32_t> rows_b, columns_b;

  [[nodiscard]] std::uint64_t sample_elements() const noexcept { return sampled_rows.size() * row_length; }
  [[nodiscard]] std::uint64_t cost() const noexcept {
    return (layers_a.size() + 1) * (layers_b.size() + 1) * sample_elements();
  }

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & role & layers_a & layers_b & a & b & rows & row_length & sampled_rows & rows_b & columns_b;
  }
};

struct cross_layer_result {
  std::uint32_t request = 0;   // index into work_plan::cross_layers
  bool usable = false;
  std::string reason;
  std::vector<double> pearson;  // row-major, layers_a.size() × layers_b.size()
  std::vector<double> cosine;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & request & usable & reason & pearson & cosine;
  }
};

class block_reader;

// Reads the sampled rows of every layer through `reader` and computes both matrices in double.
cross_layer_result compute_cross_layer(std::uint32_t index, const cross_layer_request& request,
                                       block_reader& reader);

}  // namespace lineage
