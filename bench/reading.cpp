// How the units read their bytes (issue 6, points 6 and 7): the blocks and the permutation null of
// one BF16 matrix pair in a file, read mapped without a window (the reference, what a run without
// a memory budget does), through mapped windows, and with pread; and the blocks once more with the
// manifest's XXH3 of both ranges (block_reader::compute's hashes), against XXH3 alone. Prints each way's time, GB/s of
// checkpoint bytes and the peak growth of resident memory (sampled from /proc/self/statm), with
// the ratios to the reference measured in the same run. The page cache is warm for all (the file
// was just written), so the figures compare the reading paths, not the disk.
//   bench_reading [--rows R] [--columns C] [--permutations K] [--window MiB]
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "core/content_hash.hpp"
#include "core/dtype.hpp"
#include "core/random_stream.hpp"
#include "core/resource_usage.hpp"
#include "shard/block_compute.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

// The largest resident set seen while it lives, sampled every millisecond.
class resident_peak {
 public:
  resident_peak() : start_(lineage::current_resident_bytes()), peak_(start_) {
    sampler_ = std::thread([this] {
      while (!stop_.load()) {
        const std::uint64_t now = lineage::current_resident_bytes();
        if (now > peak_.load()) peak_.store(now);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  ~resident_peak() { finish(); }
  std::uint64_t finish() {
    if (sampler_.joinable()) stop_.store(true), sampler_.join();
    return peak_.load() - start_;
  }

 private:
  std::uint64_t start_;
  std::atomic<std::uint64_t> peak_;
  std::atomic<bool> stop_{false};
  std::thread sampler_;
};

struct measured {
  double seconds = 0;
  std::uint64_t resident_growth = 0;
};

// One BF16 matrix pair in one file (A's bytes, then B's), its blocks of 4 Mi elements and its null.
struct matrix_pair {
  std::filesystem::path path;
  std::uint64_t bytes = 0;  // per side
  std::vector<lineage::work_block> blocks;
  lineage::null_request null;
};

matrix_pair write_matrix_pair(std::uint64_t rows, std::uint64_t columns, std::uint32_t permutations) {
  matrix_pair pair;
  const std::uint64_t elements = rows * columns;
  pair.bytes = elements * 2;
  pair.path = std::filesystem::temp_directory_path() / fmt::format("lineage-bench-reading-{}", ::getpid());
  lineage::random_stream stream(1, "bench", "reading");
  std::vector<std::byte> side(pair.bytes);
  std::ofstream out(pair.path, std::ios::binary);
  for (int s = 0; s < 2; ++s) {
    for (std::uint64_t i = 0; i < elements; ++i) {
      const std::uint16_t rounded = lineage::float_to_bf16(static_cast<float>(stream.normal()));
      std::memcpy(side.data() + 2 * i, &rounded, 2);
    }
    out.write(reinterpret_cast<const char*>(side.data()), static_cast<std::streamsize>(pair.bytes));
  }
  for (std::uint64_t first = 0; first < elements; first += std::uint64_t{1} << 22) {
    lineage::work_block block;
    block.first_element = first;
    block.elements = std::min<std::uint64_t>(std::uint64_t{1} << 22, elements - first);
    block.a = {0, first * 2, lineage::dtype::bf16};
    block.b = {0, pair.bytes + first * 2, lineage::dtype::bf16};
    pair.blocks.push_back(block);
  }
  pair.null.a = {0, 0, lineage::dtype::bf16};
  pair.null.b = {0, pair.bytes, lineage::dtype::bf16};
  pair.null.rows = rows;
  pair.null.row_length = columns;
  pair.null.permutations = permutations;
  pair.null.seed = 7;
  pair.null.group = {lineage::symmetry_group::form::plain, rows, 0, 1, 0};  // the rows, any order
  return pair;
}

double sink = 0;  // keeps the work from being optimised away

// The best of two runs of the pair's blocks (with the manifest's hashes or not) or of its null.
measured run(const matrix_pair& pair, const lineage::read_settings& settings, bool nulls, bool hashes) {
  measured best{1e300, 0};
  for (int attempt = 0; attempt < 2; ++attempt) {
    lineage::block_reader reader({pair.path}, {pair.path}, settings);
    resident_peak peak;
    const auto start = clock_type::now();
    if (nulls) {
      sink += reader.compute(pair.null).observed;
    } else {
      for (const auto& block : pair.blocks) {
        lineage::block_reader::range_hashes hashed;
        sink += reader.compute(block, nullptr, hashes ? &hashed : nullptr).sum_ab + static_cast<double>(hashed.a & 1);
      }
    }
    best.seconds = std::min(best.seconds, std::chrono::duration<double>(clock_type::now() - start).count());
    best.resident_growth = std::max(best.resident_growth, peak.finish());
  }
  return best;
}

struct reading_way {
  const char* name;
  lineage::read_settings settings;
  bool hashes;  // blocks only: with the manifest's hashes
};

// One table: every way of reading the blocks (or the null), each against the first way.
void print_table(const matrix_pair& pair, const std::vector<reading_way>& ways, bool nulls) {
  if (nulls)
    fmt::print("the permutation null, K = {}\n", pair.null.permutations);
  else
    fmt::print("all {} blocks of 4 Mi elements\n", pair.blocks.size());
  fmt::print("  {:32} {:>8} {:>8} {:>12} {:>8} {:>10}\n", "reading", "seconds", "GB/s", "resident MiB", "time x",
             "resident x");
  const measured reference = run(pair, ways[0].settings, nulls, false);
  for (const auto& way : ways) {
    if (nulls && way.hashes) continue;
    const measured m = &way == &ways[0] ? reference : run(pair, way.settings, nulls, way.hashes);
    fmt::print("  {:32} {:8.3f} {:8.2f} {:12.1f} {:8.2f} {:10.3f}\n", way.name, m.seconds,
               2.0 * static_cast<double>(pair.bytes) / m.seconds / 1e9, static_cast<double>(m.resident_growth) / (1 << 20),
               m.seconds / reference.seconds,
               static_cast<double>(m.resident_growth) / static_cast<double>(std::max<std::uint64_t>(1, reference.resident_growth)));
  }
}

// XXH3 alone over as many bytes as both sides, 8 MiB at a time from cache.
void print_hash_alone(std::uint64_t bytes) {
  std::vector<std::byte> cached(std::size_t{1} << 23);
  const auto start = clock_type::now();
  for (std::uint64_t done = 0; done < 2 * bytes; done += cached.size()) sink += static_cast<double>(lineage::fast_hash(cached) & 1);
  const double alone = std::chrono::duration<double>(clock_type::now() - start).count();
  fmt::print("XXH3 alone, 8 MiB in cache: {:.2f} GB/s\n", 2.0 * static_cast<double>(bytes) / alone / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t rows = 16384, columns = 4096, window_mib = 16;
  std::uint32_t permutations = 5;
  CLI::App app("Blocks and the permutation null of one BF16 matrix pair, read mapped, windowed and with pread");
  app.add_option("--rows", rows, "rows of the matrix (default 16384)");
  app.add_option("--columns", columns, "columns of the matrix (default 4096)");
  app.add_option("--permutations", permutations, "K of the null (default 5)");
  app.add_option("--window", window_mib, "the window in MiB (default 16)");
  CLI11_PARSE(app, argc, argv);

  const matrix_pair pair = write_matrix_pair(rows, columns, permutations);
  const std::uint64_t window = window_mib << 20;
  const std::vector<reading_way> ways = {{"mapped, no window (reference)", {lineage::read_method::map, 0}, false},
                                         {"mapped, windowed", {lineage::read_method::map, window}, false},
                                         {"pread, windowed", {lineage::read_method::read, window}, false},
                                         {"mapped, manifest hashes", {lineage::read_method::map, 0}, true}};
  fmt::print("a {} x {} BF16 pair ({:.0f} MiB per side), window {} MiB, warm page cache\n", rows, columns,
             static_cast<double>(pair.bytes) / (1 << 20), window_mib);
  for (const bool nulls : {false, true}) print_table(pair, ways, nulls);
  print_hash_alone(pair.bytes);
  std::filesystem::remove(pair.path);
  if (sink == 0.123) fmt::print("\n");
  return 0;
}
