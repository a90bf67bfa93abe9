// The symmetry null of one matrix pair at real size, each way it can be computed, measured in the
// same run against the reference (rows permuted, every draw a pass): rows with norm-folded
// directions (a second row dot per row and draw), columns permuted (slices running down every row),
// and the null from cross products of a values unit (dimensions inside 32 heads of 128, 8 KV
// heads), whose draws cost O(units) and which therefore takes K × 200 draws; and the cyclic
// group's nulls (all rows − 1 or columns − 1 shifts at once by FFT, shard/null_cyclic.cpp), with
// the seconds per draw against the reference's.
//   bench_permutation_null [--rows R] [--columns C] [--permutations K]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/dtype.hpp"
#include "core/random_stream.hpp"
#include "shard/permutation_null.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// `count` N(0, 1) values as BF16 bytes (round to nearest even).
std::vector<std::byte> random_bf16(std::size_t count, lineage::random_stream& stream) {
  std::vector<std::byte> bytes(count * 2);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint16_t rounded = lineage::float_to_bf16(static_cast<float>(stream.normal()));
    std::memcpy(bytes.data() + 2 * i, &rounded, 2);
  }
  return bytes;
}

// The fastest of three runs (the first touches of memory and other load land in the slower ones).
double seconds(const lineage::null_request& request, const std::vector<std::byte>& a, const std::vector<std::byte>& b,
               const std::vector<float>& norm_a, const std::vector<float>& norm_b, double& sink) {
  double best = 1e300;
  for (int run = 0; run < 3; ++run) {
    const auto start = clock_type::now();
    const lineage::null_samples samples = lineage::compute_permutation_null(request, a, b, norm_a, norm_b);
    best = std::min(best, std::chrono::duration<double>(clock_type::now() - start).count());
    sink += samples.observed + samples.direction_observed;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t rows = 4096, columns = 4096;
  std::uint32_t permutations = 50;
  CLI::App app("Permutation null of one BF16 matrix pair, with and without row directions");
  app.add_option("--rows", rows, "rows of the matrix (default 4096)");
  app.add_option("--columns", columns, "columns of the matrix (default 4096)");
  app.add_option("--permutations", permutations, "K (default 50)");
  CLI11_PARSE(app, argc, argv);

  lineage::random_stream stream(1, "bench", "permutation null");
  const auto a = random_bf16(rows * columns, stream), b = random_bf16(rows * columns, stream);
  std::vector<float> norm_a(columns), norm_b(columns);
  for (std::uint64_t j = 0; j < columns; ++j) {
    norm_a[j] = static_cast<float>(1 + 0.1 * stream.normal());
    norm_b[j] = static_cast<float>(1 + 0.1 * stream.normal());
  }
  lineage::null_request request;
  request.a.type = request.b.type = lineage::dtype::bf16;
  request.rows = rows;
  request.row_length = columns;
  request.permutations = permutations;
  request.seed = 7;
  request.group = {lineage::symmetry_group::form::plain, rows, 0, 1, 0};
  double sink = 0;
  const std::vector<float> none;
  const double plain = seconds(request, a, b, none, none, sink);
  const double folded = seconds(request, a, b, norm_a, norm_b, sink);
  lineage::null_request by_columns = request;
  by_columns.axis = 1;
  by_columns.group.units = columns;
  const double column_time = seconds(by_columns, a, b, none, none, sink);
  lineage::null_request values = by_columns;
  values.group = {lineage::symmetry_group::form::within, 0, 8, 4, 128};
  values.layout = {lineage::axis_layout::role::query, 128, {}};
  values.from_products = true;
  values.permutations = permutations * 200;
  const bool fits = lineage::fits(values.group, values.layout, columns);
  const double products = fits ? seconds(values, a, b, none, none, sink) : NAN;
  lineage::null_request cyclic_rows = request;
  cyclic_rows.group.kind = lineage::symmetry_group::form::cyclic;
  cyclic_rows.permutations = static_cast<std::uint32_t>(rows - 1);
  const double rows_shifts = seconds(cyclic_rows, a, b, norm_a, norm_b, sink);
  lineage::null_request cyclic_columns = by_columns;
  cyclic_columns.group.kind = lineage::symmetry_group::form::cyclic;
  cyclic_columns.permutations = static_cast<std::uint32_t>(columns - 1);
  const double column_shifts = seconds(cyclic_columns, a, b, none, none, sink);
  fmt::print("symmetry null of a {} x {} BF16 pair, K = {}\n", rows, columns, permutations);
  fmt::print("  rows permuted, directions (the reference) {:7.2f} s   1.00\n", plain);
  fmt::print("  rows permuted, norm-folded directions     {:7.2f} s   {:.2f}\n", folded, folded / plain);
  fmt::print("  columns permuted                          {:7.2f} s   {:.2f}\n", column_time, column_time / plain);
  if (fits)
    fmt::print("  values unit from products, K = {:<10}  {:7.2f} s   {:.2f}\n", values.permutations, products,
               products / plain);
  const auto per_draw = [&](double time, std::uint64_t draws) {
    return (time / static_cast<double>(draws)) / (plain / permutations);
  };
  fmt::print("  rows, all {} cyclic shifts, norm-folded   {:7.2f} s   {:.2f}   per draw {:.4f}\n", rows - 1,
             rows_shifts, rows_shifts / plain, per_draw(rows_shifts, rows - 1));
  fmt::print("  columns, all {} cyclic shifts             {:7.2f} s   {:.2f}   per draw {:.4f}\n", columns - 1,
             column_shifts, column_shifts / plain, per_draw(column_shifts, columns - 1));
  fmt::print("  (cost model, multiply-adds: rows {:.3g} against {:.3g} for the reference; columns {:.3g})\n",
             static_cast<double>(cyclic_rows.cost()), static_cast<double>(request.cost()),
             static_cast<double>(cyclic_columns.cost()));
  if (sink == 0.123) fmt::print("\n");  // keep the work from being optimised away
  return 0;
}
