// The shape-free fingerprint of one matrix at real size (issue 4, point 4), beside the reference
// measured in the same run: one pass that decodes the same rows to FP32 (what any statistic of
// the tensor costs at least). The fingerprint decodes the matrix once (with its moments), holds it
// and makes eight products with WᵀW of an eight-column block (block Lanczos). Matrices up to 1024
// on their smaller side also get the largest error of the eight top singular values against the
// exact ones.
//   bench_fingerprint [--rows R] [--columns C]
#include <CLI/CLI.hpp>
#include <Eigen/Dense>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/dtype.hpp"
#include "core/random_stream.hpp"
#include "core/resource_usage.hpp"
#include "shard/block_compute.hpp"
#include "shard/fingerprint.hpp"
#include "shard/matching_vectors.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// Top singular values set apart from the bulk in the "steep" matrices, as trained weights have
// them: 32 directions at 4 × the bulk's edge (√rows + √columns) falling by 0.85 each.
constexpr std::size_t steep_directions = 32;

// A safetensors file of one BF16 [rows, columns] tensor "w" of N(0, 1) values (plus, when `steep`,
// a rank-32 part Σ s_k u_k v_kᵀ with random unit-scale u, v); returns where its first element is.
lineage::element_location write_matrix(const std::filesystem::path& path, std::uint64_t rows, std::uint64_t columns,
                                       bool steep) {
  const std::uint64_t bytes = rows * columns * 2;
  std::string header = fmt::format(R"({{"w":{{"dtype":"BF16","shape":[{},{}],"data_offsets":[0,{}]}}}})", rows,
                                   columns, bytes);
  header.append((8 - header.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary);
  const std::uint64_t length = header.size();
  out.write(reinterpret_cast<const char*>(&length), 8);
  out << header;
  lineage::random_stream stream(1, "bench", "fingerprint");
  const std::size_t rank = steep ? steep_directions : 0;
  const double edge = std::sqrt(static_cast<double>(rows)) + std::sqrt(static_cast<double>(columns));
  std::vector<double> v(rank * columns), u(rank);
  for (double& x : v) x = stream.normal() / std::sqrt(static_cast<double>(columns));
  std::vector<float> values(columns);
  std::vector<std::uint16_t> row(columns);
  for (std::uint64_t r = 0; r < rows; ++r) {
    for (auto& x : values) x = static_cast<float>(stream.normal());
    for (std::size_t k = 0; k < rank; ++k) {
      const double scale = 4 * edge * std::pow(0.85, static_cast<double>(k)) * stream.normal() /
                           std::sqrt(static_cast<double>(rows));
      for (std::uint64_t c = 0; c < columns; ++c) values[c] += static_cast<float>(scale * v[k * columns + c]);
    }
    for (std::uint64_t c = 0; c < columns; ++c) row[c] = lineage::float_to_bf16(values[c]);
    out.write(reinterpret_cast<const char*>(row.data()), static_cast<std::streamsize>(columns * 2));
  }
  return {0, 8 + length, lineage::dtype::bf16};
}

// Matrices whose smaller side is at most this get their estimate checked against the exact
// singular values (eigenvalues of the FP64 Gram matrix of the smaller side).
constexpr std::uint64_t accuracy_width = 1024;

std::string accuracy(lineage::block_reader& reader, const lineage::element_location& first, std::uint64_t rows,
                     std::uint64_t columns, const lineage::tensor_fingerprint& f) {
  Eigen::MatrixXf w(static_cast<Eigen::Index>(columns), static_cast<Eigen::Index>(rows));  // column r: row r
  reader.read_rows(0, first, columns, lineage::index_range(0, rows), {}, w.data());
  const Eigen::MatrixXd wd = w.cast<double>();
  const Eigen::MatrixXd gram = rows <= columns ? Eigen::MatrixXd(wd.transpose() * wd) : Eigen::MatrixXd(wd * wd.transpose());
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(gram, Eigen::EigenvaluesOnly);
  double worst = 0;
  for (std::size_t k = 0; k < f.spectrum.size(); ++k) {
    const double exact = std::sqrt(std::max(0.0, solver.eigenvalues()(gram.rows() - 1 - static_cast<Eigen::Index>(k))));
    worst = std::max(worst, std::abs(f.spectrum[k] * f.frobenius - exact) / exact);
  }
  return fmt::format("largest error of sigma 1-{}: {:.2f} %", f.spectrum.size(), 100 * worst);
}

template <class Work>
double fastest(Work&& work) {
  double best = 1e300;
  for (int run = 0; run < 3; ++run) {
    const auto start = clock_type::now();
    work();
    best = std::min(best, std::chrono::duration<double>(clock_type::now() - start).count());
  }
  return best;
}

void measure(const std::filesystem::path& dir, std::uint64_t rows, std::uint64_t columns, bool steep) {
  const auto path = dir / fmt::format("w-{}x{}.safetensors", rows, columns);
  const lineage::element_location first = write_matrix(path, rows, columns, steep);
  lineage::block_reader reader({path}, {path});
  double sink = 0;
  // The reference: decode every row to FP32 once, in the fingerprint's block size.
  const double decode = fastest([&] {
    const std::uint64_t step = std::max<std::uint64_t>(1, (std::uint64_t{1} << 20) / columns);
    std::vector<float> block(step * columns);
    for (std::uint64_t begin = 0; begin < rows; begin += step) {
      const auto count = std::min(step, rows - begin);
      reader.read_rows(0, first, columns, lineage::index_range(begin, count), {}, block.data());
      sink += block[0];
    }
  });
  const lineage::fingerprint_side side{first, {rows, columns}, "w"};
  lineage::tensor_fingerprint f;
  const double fingerprint = fastest([&] { f = lineage::fingerprint_tensor(reader, 0, side, 7); });
  sink += f.spectrum.empty() ? 0 : f.spectrum[0];
  const bool exact = std::min(rows, columns) <= lineage::fingerprint_exact_width;
  fmt::print("  {:<8} {:>6} x {:<6} {:<9} decode {:7.3f} s   fingerprint {:7.3f} s   ratio {:6.1f}   {:5.2f} GB/s of BF16",
             steep ? "steep" : "gaussian", rows, columns, exact ? "exact" : "iterated", decode, fingerprint, fingerprint / decode,
             static_cast<double>(rows * columns * 2) / fingerprint / 1e9);
  if (std::min(rows, columns) <= accuracy_width) fmt::print("   {}", accuracy(reader, first, rows, columns, f));
  fmt::print("\n");
  if (sink == 0.123) fmt::print("\n");  // keep the work from being optimised away
  std::filesystem::remove(path);
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t rows = 4096, columns = 11008;
  CLI::App app("Shape-free fingerprint of one BF16 matrix against one FP32 decode of it");
  app.add_option("--rows", rows, "rows of the large matrix (default 4096)");
  app.add_option("--columns", columns, "columns (default 11008)");
  CLI11_PARSE(app, argc, argv);
  lineage::keep_freed_memory();  // as lineage compare does: a held matrix reuses the last one's pages
  const auto dir = std::filesystem::temp_directory_path() / "lineage-bench-fingerprint";
  std::filesystem::create_directories(dir);
  fmt::print("fingerprint of one BF16 matrix; reference: one FP32 decode of the same rows (fastest of 3)\n");
  for (const bool steep : {false, true}) {
    measure(dir, 512, columns, steep);  // a k_proj of 4 KV heads × 128
    measure(dir, 1024, 2816, steep);    // an MLP projection of a small model
    measure(dir, rows, columns, steep);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
