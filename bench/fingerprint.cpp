// The shape-free fingerprint of one matrix at real size (issue 4, point 4), beside the reference
// measured in the same run: one pass that decodes the same rows to FP32 (what any statistic of
// the tensor costs at least). The fingerprint reads the matrix seven times (moments, six products
// with WᵀW, the last product) and multiplies each row block by a 32-column basis twice.
//   bench_fingerprint [--rows R] [--columns C]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "core/dtype.hpp"
#include "core/random_stream.hpp"
#include "shard/block_compute.hpp"
#include "shard/fingerprint.hpp"
#include "shard/matching_vectors.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// A safetensors file of one BF16 [rows, columns] tensor "w" of N(0, 1) values; returns where its
// first element is.
lineage::element_location write_matrix(const std::filesystem::path& path, std::uint64_t rows, std::uint64_t columns) {
  const std::uint64_t bytes = rows * columns * 2;
  std::string header = fmt::format(R"({{"w":{{"dtype":"BF16","shape":[{},{}],"data_offsets":[0,{}]}}}})", rows,
                                   columns, bytes);
  header.append((8 - header.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary);
  const std::uint64_t length = header.size();
  out.write(reinterpret_cast<const char*>(&length), 8);
  out << header;
  lineage::random_stream stream(1, "bench", "fingerprint");
  std::vector<std::uint16_t> row(columns);
  for (std::uint64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = lineage::float_to_bf16(static_cast<float>(stream.normal()));
    out.write(reinterpret_cast<const char*>(row.data()), static_cast<std::streamsize>(columns * 2));
  }
  return {0, 8 + length, lineage::dtype::bf16};
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

void measure(const std::filesystem::path& dir, std::uint64_t rows, std::uint64_t columns) {
  const auto path = dir / fmt::format("w-{}x{}.safetensors", rows, columns);
  const lineage::element_location first = write_matrix(path, rows, columns);
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
  fmt::print("  {:>6} x {:<6} {:<9} decode {:7.3f} s   fingerprint {:7.3f} s   ratio {:6.1f}   {:5.2f} GB/s of BF16\n",
             rows, columns, exact ? "exact" : "iterated", decode, fingerprint, fingerprint / decode,
             static_cast<double>(rows * columns * 2) / fingerprint / 1e9);
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
  const auto dir = std::filesystem::temp_directory_path() / "lineage-bench-fingerprint";
  std::filesystem::create_directories(dir);
  fmt::print("fingerprint of one BF16 matrix; reference: one FP32 decode of the same rows (fastest of 3)\n");
  measure(dir, 512, columns);  // a k_proj of 4 KV heads × 128: the exact path
  measure(dir, rows, columns);
  std::filesystem::remove_all(dir);
  return 0;
}
