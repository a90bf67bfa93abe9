#include <cpuid.h>

#include <cstdlib>
#include <string_view>

#include "shard/kernel.hpp"

namespace lineage {
namespace {

struct variant_table {
  kernel_variant variants[3];
  std::size_t count = 0;
};

#if defined(LINEAGE_HAVE_AVX2_KERNEL)
// F16C from CPUID leaf 1 (ECX bit 29): clang 14's __builtin_cpu_supports does not know "f16c".
bool has_f16c() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
}
#endif

variant_table detect() {
  variant_table table;
#if defined(LINEAGE_HAVE_AVX2_KERNEL)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c() &&
                    __builtin_cpu_supports("popcnt");
  // AVX-512 changes only the fingerprints' products (the rest is bound by memory or by its own
  // order of sums), so this variant is AVX2's with kernel_gram_avx512.cpp's gram_block.
  if (avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl"))
    table.variants[table.count++] = {"avx512", &kernel_avx2::compute, &kernel_avx2::row_dot,
                                             &kernel_avx2::dot_matrix, &kernel_avx512::gram_block,
                                             &kernel_avx2::spectrum_sums};
  if (avx2)
    table.variants[table.count++] = {"avx2", &kernel_avx2::compute, &kernel_avx2::row_dot,
                                             &kernel_avx2::dot_matrix, &kernel_avx2::gram_block,
                                             &kernel_avx2::spectrum_sums};
#endif
  table.variants[table.count++] = {"generic", &kernel_generic::compute, &kernel_generic::row_dot,
                                           &kernel_generic::dot_matrix, &kernel_generic::gram_block,
                                           &kernel_generic::spectrum_sums};
  return table;
}

const variant_table& variants() {
  static const variant_table table = detect();
  return table;
}

}  // namespace

const kernel_variant* runnable_kernels(std::size_t& how_many) noexcept {
  how_many = variants().count;
  return variants().variants;
}

const kernel_variant& best_kernel() noexcept {
  static const kernel_variant& chosen = [] () -> const kernel_variant& {
    const char* forced = std::getenv("LINEAGE_KERNEL");
    const auto& table = variants();
    if (forced != nullptr)
      for (std::size_t i = 0; i < table.count; ++i)
        if (table.variants[i].name == std::string_view(forced)) return table.variants[i];
    return table.variants[0];
  }();
  return chosen;
}

kernel_sums compute_block_sums(element_run a, element_run b, std::uint64_t count) {
  return best_kernel().compute(a, b, count);
}

void dot_product_matrix(const float* a, std::size_t rows, const float* b, std::size_t columns, std::size_t length,
                        double* out) {
  best_kernel().dot_matrix(a, rows, b, columns, length, out);
}

}  // namespace lineage
