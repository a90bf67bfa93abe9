// The statistics kernel in GB/s of input per core, beside plain two-stream memory reads of the same
// bytes measured in the same run, and their ratios. Target (docs/PERFORMANCE.md): kernel ≥ 0.8 of
// the plain read, i.e. memory-bound.
//
// Inputs are 2 × 256 MiB (far beyond the last-level cache) of BF16 model-like values, walked in
// blocks of the compare job's default size, as a rank walks its blocks.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "bench/memory_read.hpp"
#include "core/dtype.hpp"
#include "shard/kernel.hpp"

namespace {

constexpr std::size_t input_bytes = std::size_t{256} << 20;  // per side
constexpr std::uint64_t block_elements = std::uint64_t{1} << 22;

struct inputs {
  std::vector<std::uint16_t> a, b;  // BF16
  std::vector<float> a32, b32;      // the same values as F32 (half as many elements per byte)
};

const inputs& data() {
  static const inputs in = [] {
    inputs d;
    const std::size_t n = input_bytes / 2;
    d.a.resize(n);
    d.b.resize(n);
    std::uint64_t state = 0x9E3779B97F4A7C15ull;
    auto uniform = [&state] {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      return static_cast<double>(state >> 11) * 0x1.0p-53;
    };
    for (std::size_t i = 0; i < n; ++i) {
      // Roughly Gaussian weights of scale 0.02; b a drifted copy of a.
      const double g = (uniform() + uniform() + uniform() - 1.5) * 2.0;
      const double noise = (uniform() - 0.5) * 0.01;
      d.a[i] = lineage::float_to_bf16(static_cast<float>(0.02 * g));
      d.b[i] = lineage::float_to_bf16(static_cast<float>(0.02 * g + noise));
    }
    const std::size_t n32 = input_bytes / 4;
    d.a32.resize(n32);
    d.b32.resize(n32);
    for (std::size_t i = 0; i < n32; ++i) {
      d.a32[i] = lineage::bf16_to_float(d.a[i]);
      d.b32[i] = lineage::bf16_to_float(d.b[i]);
    }
    return d;
  }();
  return in;
}

void run_kernel(benchmark::State& state, const lineage::kernel_variant& variant, lineage::dtype type) {
  const auto& d = data();
  const auto* a = type == lineage::dtype::bf16 ? reinterpret_cast<const std::byte*>(d.a.data())
                                               : reinterpret_cast<const std::byte*>(d.a32.data());
  const auto* b = type == lineage::dtype::bf16 ? reinterpret_cast<const std::byte*>(d.b.data())
                                               : reinterpret_cast<const std::byte*>(d.b32.data());
  const std::uint64_t elements = input_bytes / lineage::dtype_size(type);
  const std::size_t size = lineage::dtype_size(type);
  double sink = 0;
  for (auto _ : state) {
    for (std::uint64_t first = 0; first < elements; first += block_elements) {
      const auto count = std::min(block_elements, elements - first);
      const auto sums = variant.compute({a + first * size, type}, {b + first * size, type}, count);
      sink += sums.sum_ab;
    }
  }
  benchmark::DoNotOptimize(sink);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 2 * static_cast<std::int64_t>(input_bytes));
}

void run_read(benchmark::State& state, bool vector) {
  const auto& d = data();
  const auto* a = reinterpret_cast<const std::uint64_t*>(d.a.data());
  const auto* b = reinterpret_cast<const std::uint64_t*>(d.b.data());
  const std::size_t words = input_bytes / 8;
  for (auto _ : state) {
    const auto sum = vector ? lineage::bench::read_two_streams_vector(a, b, words)
                            : lineage::bench::read_two_streams_plain(a, b, words);
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 2 * static_cast<std::int64_t>(input_bytes));
}

// Collects bytes per second by benchmark name for the ratio table printed at the end.
class ratio_reporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      const auto found = run.counters.find("bytes_per_second");
      if (found != run.counters.end()) rates_[run.run_name.function_name] = found->second.value;
    }
  }
  [[nodiscard]] const std::map<std::string, double>& rates() const { return rates_; }

 private:
  std::map<std::string, double> rates_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  std::size_t variants = 0;
  const lineage::kernel_variant* table = lineage::runnable_kernels(variants);
  const auto& best = lineage::best_kernel();
  benchmark::RegisterBenchmark("read/plain", [](benchmark::State& s) { run_read(s, false); })
      ->Unit(benchmark::kMillisecond)->MinTime(1.0);
  benchmark::RegisterBenchmark("read/vector", [](benchmark::State& s) { run_read(s, true); })
      ->Unit(benchmark::kMillisecond)->MinTime(1.0);
  for (std::size_t v = 0; v < variants; ++v) {
    const auto& variant = table[v];
    // The portable variant emulates FMA in software on x86 without it: one short run is enough.
    const double min_time = &variant == &best ? 1.0 : 0.1;
    for (const auto type : {lineage::dtype::bf16, lineage::dtype::f32})
      benchmark::RegisterBenchmark(
          fmt::format("kernel/{}/{}", variant.name, lineage::dtype_name(type)).c_str(),
          [&variant, type](benchmark::State& s) { run_kernel(s, variant, type); })
          ->Unit(benchmark::kMillisecond)->MinTime(min_time);
  }
  ratio_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  const auto& rates = reporter.rates();
  const auto rate = [&rates](const std::string& name) {
    const auto found = rates.find(name);
    return found == rates.end() ? std::nan("") : found->second / 1e9;
  };
  const double plain = rate("read/plain"), vector = rate("read/vector");
  fmt::print("\nGB/s of input per core (both streams counted), same run:\n");
  fmt::print("  {:<24} {:>8}\n", "read/plain (reference)", fmt::format("{:.2f}", plain));
  fmt::print("  {:<24} {:>8}\n", "read/vector", fmt::format("{:.2f}", vector));
  for (const auto& [name, bytes_per_second] : rates) {
    if (name.rfind("kernel/", 0) != 0) continue;
    const double gbs = bytes_per_second / 1e9;
    fmt::print("  {:<24} {:>8.2f}   ratio to plain read {:.2f}   to vector read {:.2f}\n", name, gbs,
               gbs / plain, gbs / vector);
  }
  fmt::print("Target: kernel/{}/BF16 ≥ 0.80 × read/plain.\n", best.name);
  benchmark::Shutdown();
  return 0;
}
