// Part of the statistics kernel (kernel_impl.hpp): loaders that turn eight elements of a side, or
// sixteen pairs, into float vectors, and single-element access for the exact path. Which pair lands
// in which lane is part of the arithmetic's definition. Included once per instruction set; no
// include guard on purpose.
namespace {

// Loaders: eight elements of one side as floats, exact for every supported type but F64. -------
struct load_f32 {
  const std::byte* data;
  void prefetch(std::size_t i) const { __builtin_prefetch(data + 4 * i); }
  v8f operator()(std::size_t i) const {
    v8f v;
    std::memcpy(&v, data + 4 * i, sizeof v);
    return v;
  }
};

struct load_bf16 {
  const std::byte* data;
  void prefetch(std::size_t i) const { __builtin_prefetch(data + 2 * i); }
  v8f operator()(std::size_t i) const {
#if defined(LINEAGE_KERNEL_USE_AVX2)
    const __m128i half = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 2 * i));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
#else
    v8u16 half;
    std::memcpy(&half, data + 2 * i, sizeof half);
    const v8u32 widened = __builtin_convertvector(half, v8u32) << 16;
    v8f v;
    std::memcpy(&v, &widened, sizeof v);
    return v;
#endif
  }
};

struct load_f16 {
  const std::byte* data;
  void prefetch(std::size_t i) const { __builtin_prefetch(data + 2 * i); }
  v8f operator()(std::size_t i) const {
#if defined(LINEAGE_KERNEL_USE_AVX2)
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 2 * i));
    return _mm256_cvtph_ps(h);
#else
    const float* table = lineage::f16_table();
    v8f v;
    for (std::size_t k = 0; k < lanes; ++k) {
      std::uint16_t bits;
      std::memcpy(&bits, data + 2 * (i + k), 2);
      v[k] = table[bits];
    }
    return v;
#endif
  }
};

// F8_E4M3 and F8_E5M2 through their 256-entry decode tables.
struct load_f8 {
  const std::byte* data;
  const float* table;
  void prefetch(std::size_t i) const { __builtin_prefetch(data + i); }
  v8f operator()(std::size_t i) const {
    v8f v;
    for (std::size_t k = 0; k < lanes; ++k) v[k] = table[static_cast<std::uint8_t>(data[i + k])];
    return v;
  }
};

// Any element of any supported type but F64 as float (exact).
inline float element_float(lineage::element_run run, std::size_t i) {
  using lineage::dtype;
  const std::byte* p = run.data + i * lineage::dtype_size(run.type);
  switch (run.type) {
    case dtype::f32: {
      float v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case dtype::bf16: {
      std::uint16_t bits;
      std::memcpy(&bits, p, 2);
      return lineage::bf16_to_float(bits);
    }
    case dtype::f16: {
      std::uint16_t bits;
      std::memcpy(&bits, p, 2);
      return lineage::f16_table()[bits];
    }
    case dtype::f8_e4m3: return lineage::f8_e4m3_table()[static_cast<std::uint8_t>(*p)];
    case dtype::f8_e5m2: return lineage::f8_e5m2_table()[static_cast<std::uint8_t>(*p)];
    case dtype::f64: break;
  }
  return 0;
}

// Any element of any supported type as double (the shift and F64 paths).
inline double element(lineage::element_run run, std::size_t i) {
  if (run.type != lineage::dtype::f64) return element_float(run, i);
  double v;
  std::memcpy(&v, run.data + 8 * i, 8);
  return v;
}

// Pair loaders: two groups (sixteen pairs) at a time as (x0, y0), (x1, y1), counting bitwise-equal
// pairs as they go. Which pair lands in which lane is part of the arithmetic's definition, and every
// instruction-set variant uses the same loader for the same dtypes, so the bits still agree.

// Any two loaders, in natural order: group 0 is pairs i..i+7, group 1 is pairs i+8..i+15.
template <typename LoadA, typename LoadB>
struct pair_loader {
  LoadA load_a;
  LoadB load_b;
  v8i equal{};

  void prefetch(std::size_t i) const {
    load_a.prefetch(i);
    load_b.prefetch(i);
  }
  void load1(std::size_t i, v8f& x, v8f& y) {
    x = load_a(i);
    y = load_b(i);
    equal -= bits_of(x) == bits_of(y);
  }
  void load2(std::size_t i, v8f& x0, v8f& y0, v8f& x1, v8f& y1) {
    load1(i, x0, y0);
    load1(i + lanes, x1, y1);
  }
  std::uint64_t take_equal() {
    std::uint64_t total = 0;
    for (std::size_t k = 0; k < lanes; ++k) total += static_cast<std::uint64_t>(equal[k]);
    equal = v8i{};
    return total;
  }
};

// BF16 against BF16, the common case, from one 32-byte load per side: equality on the raw 16-bit
// values, and the widening to float by interleaving with zeros, which (as AVX2 unpacks work within
// 128-bit halves) puts pairs {0-3, 8-11} in group 0 and {4-7, 12-15} in group 1.
struct bf16_pair_loader {
  using v16u16 = std::uint16_t __attribute__((vector_size(32)));
  using v16i16 = std::int16_t __attribute__((vector_size(32)));
  const std::byte* a;
  const std::byte* b;
#if defined(LINEAGE_KERNEL_USE_AVX2)
  std::uint64_t equal_bytes = 0;  // two mask bits per equal pair (no vector register needed)
#else
  v16i16 equal{};                 // at most 128 per lane per chunk of 2048 pairs
#endif
  std::uint64_t equal_tail = 0;

  void prefetch(std::size_t i) const {
    __builtin_prefetch(a + 2 * i);
    __builtin_prefetch(b + 2 * i);
  }
  void load1(std::size_t i, v8f& x, v8f& y) {  // a lone last group: natural order
    x = load_bf16{a}(i);
    y = load_bf16{b}(i);
    const v8i same = bits_of(x) == bits_of(y);
    for (std::size_t k = 0; k < lanes; ++k) equal_tail += same[k] != 0;
  }
  static void widen(v16u16 raw, v8f& low, v8f& high) {
#if defined(LINEAGE_KERNEL_USE_AVX2)
    __m256i bits;
    std::memcpy(&bits, &raw, sizeof bits);
    const __m256i zero = _mm256_setzero_si256();
    low = _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, bits));
    high = _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, bits));
#else
    const v8u32 l = __builtin_convertvector(__builtin_shufflevector(raw, raw, 0, 1, 2, 3, 8, 9, 10, 11), v8u32) << 16;
    const v8u32 h = __builtin_convertvector(__builtin_shufflevector(raw, raw, 4, 5, 6, 7, 12, 13, 14, 15), v8u32) << 16;
    std::memcpy(&low, &l, sizeof low);
    std::memcpy(&high, &h, sizeof high);
#endif
  }
  void load2(std::size_t i, v8f& x0, v8f& y0, v8f& x1, v8f& y1) {
    v16u16 ra, rb;
    std::memcpy(&ra, a + 2 * i, sizeof ra);
    std::memcpy(&rb, b + 2 * i, sizeof rb);
#if defined(LINEAGE_KERNEL_USE_AVX2)
    __m256i va, vb;
    std::memcpy(&va, &ra, sizeof va);
    std::memcpy(&vb, &rb, sizeof vb);
    equal_bytes += static_cast<std::uint64_t>(
        _mm_popcnt_u32(static_cast<unsigned>(_mm256_movemask_epi8(_mm256_cmpeq_epi16(va, vb)))));
#else
    equal -= ra == rb;
#endif
    widen(ra, x0, x1);
    widen(rb, y0, y1);
  }
  std::uint64_t take_equal() {
    std::uint64_t total = equal_tail;
#if defined(LINEAGE_KERNEL_USE_AVX2)
    total += equal_bytes / 2;
    equal_bytes = 0;
#else
    for (std::size_t k = 0; k < 2 * lanes; ++k) total += static_cast<std::uint64_t>(equal[k]);
    equal = v16i16{};
#endif
    equal_tail = 0;
    return total;
  }
};

}  // namespace
