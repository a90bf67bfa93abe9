#include "kernel_test_support.hpp"

#include <cmath>
#include <limits>

namespace lineage::kernel_test {

std::vector<kernel_variant> variants() {
  std::size_t count = 0;
  const kernel_variant* table = runnable_kernels(count);
  return {table, table + count};
}

bool is_f8(dtype t) { return t == dtype::f8_e4m3 || t == dtype::f8_e5m2; }

std::uint64_t random_finite_f8(dtype type, std::mt19937_64& engine) {
  while (true) {
    const std::uint64_t code = engine() & 0xFFu;
    if (std::isfinite(test::reference_decode(type, code))) return code;
  }
}

std::pair<typed_vector, typed_vector> realistic_pair(dtype ta, dtype tb, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  typed_vector a(ta, n), b(tb, n);
  for (std::size_t i = 0; i < n; ++i) {
    const double x = 0.3 + normal(engine);
    const double y = 0.8 * x + 0.6 * normal(engine);
    if (is_f8(ta))
      a.set_code(i, random_finite_f8(ta, engine));
    else
      a.set_value(i, x);
    if (is_f8(tb))
      b.set_code(i, random_finite_f8(tb, engine));
    else
      b.set_value(i, y);
  }
  return {std::move(a), std::move(b)};
}

void inject_nonfinite(typed_vector& a, typed_vector& b) {
  const std::size_t n = a.size();
  const auto put = [](typed_vector& v, std::size_t i, int kind) {
    if (i >= v.size()) return;
    const bool inf_ok = test::has_infinity(v.type());
    switch (kind) {
      case 0:
        v.set_code(i, test::nan_code(v.type()));
        break;
      case 1:
        v.set_code(i, inf_ok ? test::inf_code(v.type()) : test::nan_code(v.type(), true));
        break;
      default:
        v.set_code(i, inf_ok ? test::inf_code(v.type(), true) : test::nan_code(v.type()));
        break;
    }
  };
  for (std::size_t i : {std::size_t{3}, std::size_t{2047}, std::size_t{2048}, std::size_t{5000}, n - 1})
    put(a, i, static_cast<int>(i % 3));
  for (std::size_t i : {std::size_t{3}, std::size_t{100}, std::size_t{4095}, std::size_t{70001}, n - 2})
    put(b, i, static_cast<int>((i + 1) % 3));
}

}  // namespace lineage::kernel_test
