// The cost of the manifest's fused hashes: block reads of 2 × 256 MiB of BF16 (page cache warm,
// blocks of the default 2²² elements) with and without block_reader::compute's XXH3 of both
// ranges, best of several rounds, and XXH3 alone over the same bytes. Throughput counts A's and B's
// bytes. Usage: bench_manifest_hash [--rounds N] [--dir DIR]
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "core/content_hash.hpp"
#include "shard/block_compute.hpp"

namespace {

using namespace lineage;
constexpr std::uint64_t elements = std::uint64_t{1} << 27;  // 256 MiB of BF16 per side
constexpr std::uint64_t block_elements = std::uint64_t{1} << 22;

void write_side(const std::filesystem::path& path, unsigned seed) {
  std::ofstream out(path, std::ios::binary);
  std::mt19937 random(seed);
  std::vector<std::uint16_t> chunk(std::size_t{1} << 20);
  for (std::uint64_t done = 0; done < elements; done += chunk.size()) {
    for (auto& v : chunk) v = static_cast<std::uint16_t>(0x3c00 + (random() & 0x3ff));
    out.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(chunk.size() * 2));
  }
}

double seconds(const std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"block reads with and without the manifest's XXH3"};
  int rounds = 9;
  std::string dir = std::filesystem::temp_directory_path().string();
  app.add_option("--rounds", rounds, "rounds of each (best is shown)");
  app.add_option("--dir", dir, "where the two 256 MiB input files go");
  CLI11_PARSE(app, argc, argv);
  const std::filesystem::path a = std::filesystem::path(dir) / "bench_manifest_a.bin";
  const std::filesystem::path b = std::filesystem::path(dir) / "bench_manifest_b.bin";
  write_side(a, 1);
  write_side(b, 2);
  block_reader reader({a}, {b});
  double best[2] = {1e9, 1e9};
  std::uint64_t sink = 0;
  for (int round = 0; round < rounds; ++round)
    for (int hashing = 0; hashing < 2; ++hashing) {
      const auto start = std::chrono::steady_clock::now();
      for (std::uint64_t first = 0; first < elements; first += block_elements) {
        work_block block;
        block.elements = block_elements;
        block.a = {0, first * 2, dtype::bf16};
        block.b = {0, first * 2, dtype::bf16};
        block_reader::range_hashes hashes;
        sink += reader.compute(block, nullptr, hashing != 0 ? &hashes : nullptr).count + hashes.a;
      }
      best[hashing] = std::min(best[hashing], seconds(start));
    }
  const double bytes = 4.0 * static_cast<double>(elements);
  std::vector<std::byte> buffer(std::size_t{1} << 23);
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t done = 0; done < 2 * elements * 2; done += buffer.size()) sink += fast_hash(buffer);
  const double alone = seconds(start);
  fmt::print("block reads, no hashes:   {:.2f} GB/s\n", bytes / best[0] / 1e9);
  fmt::print("block reads, with hashes: {:.2f} GB/s ({:.2f} times the time)\n", bytes / best[1] / 1e9,
             best[1] / best[0]);
  fmt::print("XXH3 alone, 8 MiB in cache: {:.2f} GB/s   [{}]\n", bytes / alone / 1e9, sink % 7);
  std::filesystem::remove(a);
  std::filesystem::remove(b);
}
