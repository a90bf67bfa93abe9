#include "synth/hidden_rotation.hpp"

#include <bit>
#include <cmath>
#include <utility>

#include "core/error.hpp"
#include "core/random_stream.hpp"

namespace lineage::synth {

namespace {

constexpr std::string_view purpose = "derive rotate-hidden";

constexpr std::pair<hidden_rotation_kind, std::string_view> rotation_names[] = {
    {hidden_rotation_kind::orthogonal, "orthogonal"}, {hidden_rotation_kind::hadamard, "hadamard"}};

double dot(std::span<const double> a, std::span<const double> b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += a[i] * b[i];
  return sum;
}

}  // namespace

std::string_view hidden_rotation_name(hidden_rotation_kind kind) noexcept {
  for (const auto& [k, name] : rotation_names)
    if (k == kind) return name;
  return "?";
}

std::optional<hidden_rotation_kind> parse_hidden_rotation(std::string_view name) noexcept {
  for (const auto& [kind, spelling] : rotation_names)
    if (spelling == name) return kind;
  return std::nullopt;
}

rotation_matrix::rotation_matrix(std::uint64_t n, std::vector<double> entries) : n_(n), entries_(std::move(entries)) {
  if (entries_.size() != n * n) throw internal_error("synth: a rotation matrix of the wrong size");
}

rotation_matrix haar_orthogonal(std::uint64_t seed, std::uint64_t n) {
  random_stream stream(seed, purpose, "orthogonal");
  // columns[j * n + i] = G[i][j]: each column contiguous, so the projections run along memory.
  std::vector<double> columns(n * n);
  for (std::uint64_t i = 0; i < n; ++i)
    for (std::uint64_t j = 0; j < n; ++j) columns[j * n + i] = stream.normal();
  for (std::uint64_t j = 0; j < n; ++j) {
    const std::span<double> column(columns.data() + j * n, n);
    for (int pass = 0; pass < 2; ++pass)
      for (std::uint64_t k = 0; k < j; ++k) {
        const std::span<const double> done(columns.data() + k * n, n);
        const double projection = dot(done, column);
        for (std::uint64_t i = 0; i < n; ++i) column[i] -= projection * done[i];
      }
    const double length = std::sqrt(dot(column, column));
    for (double& x : column) x /= length;
  }
  std::vector<double> entries(n * n);
  for (std::uint64_t i = 0; i < n; ++i)
    for (std::uint64_t j = 0; j < n; ++j) entries[i * n + j] = columns[j * n + i];
  return rotation_matrix(n, std::move(entries));
}

rotation_matrix randomized_hadamard(std::uint64_t seed, std::uint64_t n) {
  if (!is_power_of_two(n)) throw internal_error("synth: a Hadamard rotation of a size that is no power of two");
  random_stream stream(seed, purpose, "hadamard signs");
  std::vector<double> signs(n);
  for (double& s : signs) s = (stream.next_u64() & 1) != 0 ? -1.0 : 1.0;
  const double scale = 1.0 / std::sqrt(static_cast<double>(n));
  std::vector<double> entries(n * n);
  for (std::uint64_t i = 0; i < n; ++i)
    for (std::uint64_t j = 0; j < n; ++j) {
      const double sign = std::popcount(i & j) % 2 == 0 ? 1.0 : -1.0;
      entries[i * n + j] = sign * signs[j] * scale;
    }
  return rotation_matrix(n, std::move(entries));
}

rotation_matrix make_rotation(hidden_rotation_kind kind, std::uint64_t seed, std::uint64_t n) {
  return kind == hidden_rotation_kind::hadamard ? randomized_hadamard(seed, n) : haar_orthogonal(seed, n);
}

void rotate_column_block(std::span<double> values, std::uint64_t columns, std::uint64_t first,
                         const rotation_matrix& q) {
  const std::uint64_t n = q.size();
  if (columns == 0 || values.size() % columns != 0 || first + n > columns)
    throw internal_error("synth: a rotated column block outside its tensor");
  std::vector<double> rotated(n);
  for (std::size_t row_start = 0; row_start < values.size(); row_start += columns) {
    const std::span<double> block = values.subspan(row_start + first, n);
    for (std::uint64_t i = 0; i < n; ++i) rotated[i] = dot(q.row(i), block);
    std::copy(rotated.begin(), rotated.end(), block.begin());
  }
}

void rotate_rows(std::span<double> values, std::uint64_t columns, const rotation_matrix& q) {
  const std::uint64_t n = q.size();
  if (values.size() != n * columns) throw internal_error("synth: rotated rows that are not the hidden size");
  std::vector<double> rotated(values.size(), 0.0);
  for (std::uint64_t i = 0; i < n; ++i) {
    double* out = rotated.data() + i * columns;
    const auto weights = q.row(i);
    for (std::uint64_t j = 0; j < n; ++j) {
      const double weight = weights[j];
      const double* in = values.data() + j * columns;
      for (std::uint64_t c = 0; c < columns; ++c) out[c] += weight * in[c];
    }
  }
  std::copy(rotated.begin(), rotated.end(), values.begin());
}

}  // namespace lineage::synth
