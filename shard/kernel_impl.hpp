// The statistics kernel, included once per instruction set by kernel_<isa>.cpp inside namespace
// lineage::LINEAGE_KERNEL_NAMESPACE. No include guard on purpose.
//
// The fast path makes one fused pass per group of eight pairs: decode both sides to float, track
// minimum and maximum, count bitwise-equal pairs and add six running sums. The sums live in eight
// lanes (which pair of a group goes to which lane is fixed by the loader), first as
// single-precision partials of at most 32 terms per lane, then folded into double lanes; the
// block result is the fixed-order fold of the double lanes. For BF16, F16 and F8 inputs every
// product is exact in single precision, so a partial's rounding is bounded by 32 ulp of the sum of
// its absolute terms (≈ 2e-6 relative).
//
// Work is done in chunks of kernel_chunk_elements, each summed on its own and added to the block's
// lanes only if its sums of squares are finite. A chunk holding NaN or ±Inf (or values whose
// squares overflow single precision) is redone by the exact path, in double, which counts the
// non-finite values per side and leaves those pairs out of every sum. F64 blocks take the exact
// path throughout.
//
// LINEAGE_KERNEL_USE_AVX2: the including file has switched the target to AVX2 + FMA + F16C and
// included <immintrin.h> (GCC does not define __AVX2__ for a target pragma, so we say it ourselves).
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

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

// The fast path over whole groups [first, last) of one chunk. Returns false, leaving `state` in an
// unspecified condition, when the chunk held a non-finite value. That needs no test per element:
// a NaN or ±Inf makes the squared terms, and so the double lanes of Σ(a−s)² or Σ(b−s)², non-finite
// (the double lanes are finite on entry, because earlier chunks with such values were redone).
template <bool Shifted, typename PairLoader>
bool chunk_fast(PairLoader& loader, std::size_t first, std::size_t last, v8f shift_a, v8f shift_b,
                kernel_state& s) {
  // The chunk is summed on its own and added to the state only when it holds no non-finite
  // value, so nothing needs rolling back. The fast path's registers (six partials, four extremes)
  // fit the sixteen of AVX2: a partial spilled to memory would put a store and a load into its
  // dependency chain.
  partials p{};
  double_lanes chunk_sums;
  v8f lo_a = s.lo_a, hi_a = s.hi_a, lo_b = s.lo_b, hi_b = s.hi_b;
  std::size_t groups = 0;
  const auto one_group = [&](v8f x, v8f y) {
    lo_a = x < lo_a ? x : lo_a;
    hi_a = x > hi_a ? x : hi_a;
    lo_b = y < lo_b ? y : lo_b;
    hi_b = y > hi_b ? y : hi_b;
    // Subtracting a zero shift is exact, so skipping it changes no bit.
    const v8f dx = Shifted ? x - shift_a : x, dy = Shifted ? y - shift_b : y, d = x - y;
    p.a += dx;
    p.b += dy;
    p.aa = fused_multiply_add(dx, dx, p.aa);
    p.bb = fused_multiply_add(dy, dy, p.bb);
    p.ab = fused_multiply_add(dx, dy, p.ab);
    p.dd = fused_multiply_add(d, d, p.dd);
  };
  std::size_t i = first;
  for (; i + 2 * lanes <= last; i += 2 * lanes) {
    loader.prefetch(i + prefetch_distance);
    v8f x0, y0, x1, y1;
    loader.load2(i, x0, y0, x1, y1);
    one_group(x0, y0);
    one_group(x1, y1);
    groups += 2;
    if (groups == groups_per_fold) {
      chunk_sums.fold(p);
      groups = 0;
    }
  }
  if (i < last) {
    v8f x, y;
    loader.load1(i, x, y);
    one_group(x, y);
  }
  chunk_sums.fold(p);
  const std::uint64_t equal = loader.take_equal();
  if (!chunk_sums.squares_finite()) return false;
  s.sums.add(chunk_sums);
  s.lo_a = lo_a;
  s.hi_a = hi_a;
  s.lo_b = lo_b;
  s.hi_b = hi_b;
  s.equal += equal;
  s.count += last - first;
  return true;
}

// The exact path: pairs [first, last) one by one, every term in double, into the double lanes
// (pair i goes to lane (i − first) mod 8). It takes F64 blocks, the pairs after the last whole
// group, and chunks the fast path refused: those holding NaN or ±Inf, whose pairs it counts per
// side and leaves out of every sum, and those whose squares overflow single precision. Bitwise
// equality is judged on values of type T, the common type (float, or double with F64).
template <typename T>
void exact_path(lineage::element_run a, lineage::element_run b, std::size_t first, std::size_t last,
                double shift_a, double shift_b, kernel_state& s) {
  using bits_t = std::conditional_t<std::is_same_v<T, float>, std::uint32_t, std::uint64_t>;
  double_lanes& t = s.sums;
  for (std::size_t i = first; i < last; ++i) {
    const std::size_t lane = (i - first) % lanes, half = lane / 4, slot = lane % 4;
    T xt, yt;
    if constexpr (std::is_same_v<T, float>) {
      xt = element_float(a, i);
      yt = element_float(b, i);
    } else {
      xt = element(a, i);
      yt = element(b, i);
    }
    s.equal += std::bit_cast<bits_t>(xt) == std::bit_cast<bits_t>(yt);
    const double x = xt, y = yt;
    const bool finite_x = std::isfinite(x), finite_y = std::isfinite(y);
    s.nonfinite_a += !finite_x;
    s.nonfinite_b += !finite_y;
    if (finite_x) {
      s.exact_lo_a = std::min(s.exact_lo_a, x);
      s.exact_hi_a = std::max(s.exact_hi_a, x);
    }
    if (finite_y) {
      s.exact_lo_b = std::min(s.exact_lo_b, y);
      s.exact_hi_b = std::max(s.exact_hi_b, y);
    }
    if (!finite_x || !finite_y) continue;
    ++s.count;
    const double dx = x - shift_a, dy = y - shift_b, d = x - y;
    t.a[half][slot] += dx;
    t.b[half][slot] += dy;
    t.aa[half][slot] = std::fma(dx, dx, t.aa[half][slot]);
    t.bb[half][slot] = std::fma(dy, dy, t.bb[half][slot]);
    t.ab[half][slot] = std::fma(dx, dy, t.ab[half][slot]);
    t.dd[half][slot] = std::fma(d, d, t.dd[half][slot]);
  }
}

// The shift subtracted from a side before summing: the mean of the block's first 256 finite values
// when that mean is large against their spread (norm weights: mean ≈ 1, spread ≈ 0.1, where raw
// sums would lose Pearson's digits to cancellation), else 0 (weight matrices: mean ≈ 0, where a
// shift gains nothing and costs a subtraction per element). A fixed rule keeps the result a
// function of the block alone.
inline double choose_shift(lineage::element_run run, std::uint64_t count) {
  constexpr std::size_t sample = 256;
  double total = 0, squares = 0;
  std::size_t used = 0;
  for (std::size_t i = 0; i < count && used < sample; ++i) {
    const double v = element(run, i);
    if (!std::isfinite(v)) continue;
    total += v;
    squares += v * v;
    ++used;
  }
  if (used == 0) return 0.0;
  const double mean = total / static_cast<double>(used);
  const double variance = std::max(0.0, squares / static_cast<double>(used) - mean * mean);
  // |mean| ≤ std/4 loses at most a factor 1 + 1/16 of precision to cancellation.
  return 16.0 * mean * mean <= variance ? 0.0 : mean;
}

template <typename PairLoader>
void run_float_blocks(PairLoader loader, lineage::element_run a, lineage::element_run b,
                      std::uint64_t count, float shift_a, float shift_b, kernel_state& s) {
  constexpr std::size_t chunk = lineage::kernel_chunk_elements;
  static_assert(chunk % (lanes * groups_per_fold) == 0, "chunks must end on a fold boundary");
  const v8f sa = splat(shift_a), sb = splat(shift_b);
  const std::size_t whole = static_cast<std::size_t>(count) / lanes * lanes;
  for (std::size_t start = 0; start < whole; start += chunk) {
    const std::size_t end = std::min(whole, start + chunk);
    const bool finite = shift_a == 0.0f && shift_b == 0.0f
                            ? chunk_fast<false>(loader, start, end, sa, sb, s)
                            : chunk_fast<true>(loader, start, end, sa, sb, s);
    if (!finite) exact_path<float>(a, b, start, end, shift_a, shift_b, s);
  }
  if (whole < count) exact_path<float>(a, b, whole, static_cast<std::size_t>(count), shift_a, shift_b, s);
}

// Calls `use` with the loader of a side's dtype (every type but F64, which takes the exact path).
template <typename Use>
void with_loader(lineage::element_run side, Use&& use) {
  using lineage::dtype;
  switch (side.type) {
    case dtype::f32: return use(load_f32{side.data});
    case dtype::bf16: return use(load_bf16{side.data});
    case dtype::f16: return use(load_f16{side.data});
    case dtype::f8_e4m3: return use(load_f8{side.data, lineage::f8_e4m3_table()});
    case dtype::f8_e5m2: return use(load_f8{side.data, lineage::f8_e5m2_table()});
    case dtype::f64: break;
  }
}

}  // namespace

namespace lineage::LINEAGE_KERNEL_NAMESPACE {

double row_dot(const float* x, const float* y, std::size_t length) {
  const auto product = [x, y](std::size_t j) {
    v8f u, w;
    std::memcpy(&u, x + j, sizeof u);
    std::memcpy(&w, y + j, sizeof w);
    return u * w;
  };
  v8f acc0{}, acc1{}, acc2{}, acc3{};
  std::size_t j = 0;
  for (; j + 4 * lanes <= length; j += 4 * lanes) {
    acc0 += product(j);
    acc1 += product(j + lanes);
    acc2 += product(j + 2 * lanes);
    acc3 += product(j + 3 * lanes);
  }
  for (; j + lanes <= length; j += lanes) acc0 += product(j);
  const v8f folded = (acc0 + acc1) + (acc2 + acc3);
  const v4d halves[2] = {widen_low(folded), widen_high(folded)};
  double total = double_lanes::total(halves);
  for (; j < length; ++j) total += static_cast<double>(x[j]) * static_cast<double>(y[j]);
  return total;
}

// The similarity matrices' dot product: one accumulator of eight lanes per dot, products and sums
// in single precision, folded into double in a fixed order, the tail in double. A tile of 4 × 2
// dots shares its loads (8 accumulators, 6 loads per step fit the registers); every dot performs
// the same operations in the same order wherever it lies, so the matrix does not depend on the
// tiling, the instruction set or the rank.
inline v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline double fold_dot(v8f acc, const float* x, const float* y, std::size_t from, std::size_t length) {
  const v4d halves[2] = {widen_low(acc), widen_high(acc)};
  double total = double_lanes::total(halves);
  for (std::size_t k = from; k < length; ++k) total += static_cast<double>(x[k]) * static_cast<double>(y[k]);
  return total;
}

// One dot at a time, for the edges of the tiling: the same arithmetic as inside a tile.
inline double single_dot(const float* x, const float* y, std::size_t body, std::size_t length) {
  v8f acc{};
  for (std::size_t k = 0; k < body; k += lanes) acc += load8(x + k) * load8(y + k);
  return fold_dot(acc, x, y, body, length);
}

// Rows [i, i + 4) of a against rows [j, j + 2) of b.
inline void tile_dots(const float* a, const float* b, std::size_t i, std::size_t j, std::size_t columns,
                      std::size_t body, std::size_t length, double* out) {
  const float* x[4] = {a + i * length, a + (i + 1) * length, a + (i + 2) * length, a + (i + 3) * length};
  const float* y[2] = {b + j * length, b + (j + 1) * length};
  v8f acc[4][2] = {};
  for (std::size_t k = 0; k < body; k += lanes) {
    const v8f y0 = load8(y[0] + k), y1 = load8(y[1] + k);
    const v8f x0 = load8(x[0] + k), x1 = load8(x[1] + k), x2 = load8(x[2] + k), x3 = load8(x[3] + k);
    acc[0][0] += x0 * y0;
    acc[0][1] += x0 * y1;
    acc[1][0] += x1 * y0;
    acc[1][1] += x1 * y1;
    acc[2][0] += x2 * y0;
    acc[2][1] += x2 * y1;
    acc[3][0] += x3 * y0;
    acc[3][1] += x3 * y1;
  }
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t c = 0; c < 2; ++c) out[(i + r) * columns + j + c] = fold_dot(acc[r][c], x[r], y[c], body, length);
}

void dot_matrix(const float* a, std::size_t rows, const float* b, std::size_t columns, std::size_t length,
                double* out) {
  const std::size_t body = length / lanes * lanes;
  // Columns in panels of about 256 KiB of b, which stay in the L2 cache while every tile of rows
  // passes over them.
  const std::size_t panel =
      std::max<std::size_t>(2, (std::size_t{256} << 10) / (sizeof(float) * std::max<std::size_t>(1, length)) / 2 * 2);
  for (std::size_t first = 0; first < columns; first += panel) {
    const std::size_t last = std::min(columns, first + panel);
    for (std::size_t i = 0; i < rows; i += 4)
      for (std::size_t j = first; j < last; j += 2) {
        if (i + 4 <= rows && j + 2 <= last) {
          tile_dots(a, b, i, j, columns, body, length, out);
          continue;
        }
        for (std::size_t r = i; r < std::min(rows, i + 4); ++r)
          for (std::size_t c = j; c < std::min(last, j + 2); ++c)
            out[r * columns + c] = single_dot(a + r * length, b + c * length, body, length);
      }
  }
}

kernel_sums compute(element_run a, element_run b, std::uint64_t count) {
  kernel_state s;
  kernel_sums out;
  out.elements = count;
  if (a.type == dtype::f64 || b.type == dtype::f64) {
    out.shift_a = choose_shift(a, count);
    out.shift_b = choose_shift(b, count);
    exact_path<double>(a, b, 0, static_cast<std::size_t>(count), out.shift_a, out.shift_b, s);
  } else {
    // The float path subtracts float shifts; record exactly those.
    const auto shift_a = static_cast<float>(choose_shift(a, count));
    const auto shift_b = static_cast<float>(choose_shift(b, count));
    out.shift_a = shift_a;
    out.shift_b = shift_b;
    if (a.type == dtype::bf16 && b.type == dtype::bf16) {
      run_float_blocks(bf16_pair_loader{a.data, b.data}, a, b, count, shift_a, shift_b, s);
    } else {
      with_loader(a, [&](auto load_a) {
        with_loader(b, [&](auto load_b) {
          run_float_blocks(pair_loader<decltype(load_a), decltype(load_b)>{load_a, load_b}, a, b,
                           count, shift_a, shift_b, s);
        });
      });
    }
  }
  out.count = s.count;
  out.bitwise_equal = s.equal;
  out.nonfinite_a = s.nonfinite_a;
  out.nonfinite_b = s.nonfinite_b;
  out.sum_a = double_lanes::total(s.sums.a);
  out.sum_b = double_lanes::total(s.sums.b);
  out.sum_aa = double_lanes::total(s.sums.aa);
  out.sum_bb = double_lanes::total(s.sums.bb);
  out.sum_ab = double_lanes::total(s.sums.ab);
  out.sum_dd = double_lanes::total(s.sums.dd);
  out.min_a = s.exact_lo_a;
  out.max_a = s.exact_hi_a;
  out.min_b = s.exact_lo_b;
  out.max_b = s.exact_hi_b;
  for (std::size_t k = 0; k < lanes; ++k) {
    out.min_a = std::min(out.min_a, static_cast<double>(s.lo_a[k]));
    out.max_a = std::max(out.max_a, static_cast<double>(s.hi_a[k]));
    out.min_b = std::min(out.min_b, static_cast<double>(s.lo_b[k]));
    out.max_b = std::max(out.max_b, static_cast<double>(s.hi_b[k]));
  }
  return out;
}

}  // namespace lineage::LINEAGE_KERNEL_NAMESPACE
