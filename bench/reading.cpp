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

  const std::uint64_t elements = rows * columns, bytes = elements * 2;
  const auto path = std::filesystem::temp_directory_path() / fmt::format("lineage-bench-reading-{}", ::getpid());
  {
    lineage::random_stream stream(1, "bench", "reading");
    std::vector<std::byte> side(bytes);
    std::ofstream out(path, std::ios::binary);
    for (int s = 0; s < 2; ++s) {
      for (std::uint64_t i = 0; i < elements; ++i) {
        const std::uint16_t rounded = lineage::float_to_bf16(static_cast<float>(stream.normal()));
        std::memcpy(side.data() + 2 * i, &rounded, 2);
      }
      out.write(reinterpret_cast<const char*>(side.data()), static_cast<std::streamsize>(bytes));
    }
  }
  std::vector<lineage::work_block> blocks;
  for (std::uint64_t first = 0; first < elements; first += std::uint64_t{1} << 22) {
    lineage::work_block block;
    block.first_element = first;
    block.elements = std::min<std::uint64_t>(std::uint64_t{1} << 22, elements - first);
    block.a = {0, first * 2, lineage::dtype::bf16};
    block.b = {0, bytes + first * 2, lineage::dtype::bf16};
    blocks.push_back(block);
  }
  lineage::null_request null;
  null.a = {0, 0, lineage::dtype::bf16};
  null.b = {0, bytes, lineage::dtype::bf16};
  null.rows = rows;
  null.row_length = columns;
  null.permutations = permutations;
  null.seed = 7;

  double sink = 0;
  const auto run = [&](const lineage::read_settings& settings, bool nulls, bool hashes) {
    measured best{1e300, 0};
    for (int attempt = 0; attempt < 2; ++attempt) {
      lineage::block_reader reader({path}, {path}, settings);
      resident_peak peak;
      const auto start = clock_type::now();
      if (nulls) {
        sink += reader.compute(null).observed;
      } else {
        for (const auto& block : blocks) {
          lineage::block_reader::range_hashes hashed;
          sink += reader.compute(block, nullptr, hashes ? &hashed : nullptr).sum_ab + static_cast<double>(hashed.a & 1);
        }
      }
      best.seconds = std::min(best.seconds, std::chrono::duration<double>(clock_type::now() - start).count());
      best.resident_growth = std::max(best.resident_growth, peak.finish());
    }
    return best;
  };
  const std::uint64_t window = window_mib << 20;
  const struct {
    const char* name;
    lineage::read_settings settings;
    bool hashes;  // blocks only: with the manifest's hashes
  } ways[] = {{"mapped, no window (reference)", {lineage::read_method::map, 0}, false},
              {"mapped, windowed", {lineage::read_method::map, window}, false},
              {"pread, windowed", {lineage::read_method::read, window}, false},
              {"mapped, manifest hashes", {lineage::read_method::map, 0}, true}};
  fmt::print("a {} x {} BF16 pair ({:.0f} MiB per side), window {} MiB, warm page cache\n", rows, columns,
             static_cast<double>(bytes) / (1 << 20), window_mib);
  for (const bool nulls : {false, true}) {
    if (nulls)
      fmt::print("the permutation null, K = {}\n", permutations);
    else
      fmt::print("all {} blocks of 4 Mi elements\n", blocks.size());
    fmt::print("  {:32} {:>8} {:>8} {:>12} {:>8} {:>10}\n", "reading", "seconds", "GB/s", "resident MiB", "time x",
               "resident x");
    const measured reference = run(ways[0].settings, nulls, false);
    for (const auto& way : ways) {
      if (nulls && way.hashes) continue;
      const measured m = &way == &ways[0] ? reference : run(way.settings, nulls, way.hashes);
      fmt::print("  {:32} {:8.3f} {:8.2f} {:12.1f} {:8.2f} {:10.3f}\n", way.name, m.seconds,
                 2.0 * static_cast<double>(bytes) / m.seconds / 1e9, static_cast<double>(m.resident_growth) / (1 << 20),
                 m.seconds / reference.seconds,
                 static_cast<double>(m.resident_growth) / static_cast<double>(std::max<std::uint64_t>(1, reference.resident_growth)));
    }
  }
  // XXH3 alone over the same number of bytes, 8 MiB at a time from cache.
  std::vector<std::byte> cached(std::size_t{1} << 23);
  const auto start = clock_type::now();
  for (std::uint64_t done = 0; done < 2 * bytes; done += cached.size()) sink += static_cast<double>(lineage::fast_hash(cached) & 1);
  const double alone = std::chrono::duration<double>(clock_type::now() - start).count();
  fmt::print("XXH3 alone, 8 MiB in cache: {:.2f} GB/s\n", 2.0 * static_cast<double>(bytes) / alone / 1e9);
  std::filesystem::remove(path);
  if (sink == 0.123) fmt::print("\n");  // keep the work from being optimised away
  return 0;
}
