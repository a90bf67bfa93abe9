// Part of the statistics kernel (kernel_impl.hpp): the vector types, the lane arithmetic shared by
// every path (fused multiply-add, widening to double, the fixed-order fold of the double lanes) and
// the state carried from chunk to chunk. Included once per instruction set; no include guard on
// purpose.
namespace {


using v8f = float __attribute__((vector_size(32)));
using v8i = std::int32_t __attribute__((vector_size(32)));
using v8u16 = std::uint16_t __attribute__((vector_size(16)));
using v8u32 = std::uint32_t __attribute__((vector_size(32)));
using v4d = double __attribute__((vector_size(32)));
using v4f = float __attribute__((vector_size(16)));

constexpr std::size_t lanes = lineage::kernel_lanes;
constexpr std::size_t groups_per_fold = 32;      // single-precision terms per lane between folds
constexpr std::size_t prefetch_distance = 1024;  // elements ahead (2-4 KiB): covers memory latency
constexpr float f_inf = std::numeric_limits<float>::infinity();

inline v8f splat(float x) { return v8f{x, x, x, x, x, x, x, x}; }

inline v8f fused_multiply_add(v8f x, v8f y, v8f z) {
#if defined(LINEAGE_KERNEL_USE_AVX2)
  return _mm256_fmadd_ps(x, y, z);
#else
  v8f r;
  for (std::size_t k = 0; k < lanes; ++k) r[k] = std::fma(x[k], y[k], z[k]);
  return r;
#endif
}

inline v4d widen_low(v8f x) {
#if defined(LINEAGE_KERNEL_USE_AVX2)
  return _mm256_cvtps_pd(_mm256_castps256_ps128(x));
#else
  return __builtin_convertvector(__builtin_shufflevector(x, x, 0, 1, 2, 3), v4d);
#endif
}
inline v4d widen_high(v8f x) {
#if defined(LINEAGE_KERNEL_USE_AVX2)
  return _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1));
#else
  return __builtin_convertvector(__builtin_shufflevector(x, x, 4, 5, 6, 7), v4d);
#endif
}

// Single-precision partial sums.
struct partials {
  v8f a{}, b{}, aa{}, bb{}, ab{}, dd{};
};

// The double lanes the partials fold into.
struct double_lanes {
  v4d a[2]{}, b[2]{}, aa[2]{}, bb[2]{}, ab[2]{}, dd[2]{};

  static void fold_part(v8f& part, v4d (&into)[2]) {
    into[0] += widen_low(part);
    into[1] += widen_high(part);
    part = v8f{};
  }
  // Adds the partials into the lanes and clears them.
  void fold(partials& p) {
    fold_part(p.a, a);
    fold_part(p.b, b);
    fold_part(p.aa, aa);
    fold_part(p.bb, bb);
    fold_part(p.ab, ab);
    fold_part(p.dd, dd);
  }
  void add(const double_lanes& other) {
    for (std::size_t h = 0; h < 2; ++h) {
      a[h] += other.a[h];
      b[h] += other.b[h];
      aa[h] += other.aa[h];
      bb[h] += other.bb[h];
      ab[h] += other.ab[h];
      dd[h] += other.dd[h];
    }
  }
  // A NaN or ±Inf among the inputs makes a sum of squares non-finite.
  [[nodiscard]] bool squares_finite() const {
    for (std::size_t h = 0; h < 2; ++h)
      for (std::size_t k = 0; k < 4; ++k)
        if (!std::isfinite(aa[h][k]) || !std::isfinite(bb[h][k])) return false;
    return true;
  }
  static double total(const v4d (&lanes2)[2]) {
    return ((lanes2[0][0] + lanes2[0][1]) + (lanes2[0][2] + lanes2[0][3])) +
           ((lanes2[1][0] + lanes2[1][1]) + (lanes2[1][2] + lanes2[1][3]));
  }
};

// Everything the kernel carries from chunk to chunk.
struct kernel_state {
  // User-provided, so that it is compiled for the variant's instruction set (clang's target
  // attribute pragma in kernel_avx2.cpp reaches functions written out, not implicit ones).
  kernel_state() noexcept {}  // NOLINT(modernize-use-equals-default)
  double_lanes sums;
  v8f lo_a = splat(f_inf), hi_a = splat(-f_inf), lo_b = splat(f_inf), hi_b = splat(-f_inf);
  // Extremes seen by the exact path, in double (F64 values need not fit a float).
  double exact_lo_a = HUGE_VAL, exact_hi_a = -HUGE_VAL, exact_lo_b = HUGE_VAL, exact_hi_b = -HUGE_VAL;
  std::uint64_t equal = 0, count = 0, nonfinite_a = 0, nonfinite_b = 0;
};

inline v8i bits_of(v8f x) {
  v8i bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

}  // namespace
