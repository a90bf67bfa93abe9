// The statistics kernel, included once per instruction set by kernel_<isa>.cpp inside namespace
// lineage::LINEAGE_KERNEL_NAMESPACE. No include guard on purpose.
//
// One fused pass per group of eight pairs: decode both sides to float, check for non-finite values,
// track minimum and maximum, count bitwise-equal pairs and add six running sums. The sums live in
// eight lanes (pair i of a group goes to lane i), first as single-precision partials of at most 32
// terms per lane, then folded into double lanes; the block result is the fixed-order fold of the
// double lanes. For BF16, F16 and F8 inputs every product is exact in single precision, so a
// partial's rounding is bounded by 32 ulp of the sum of its absolute terms (≈ 2e-6 relative).
//
// Work is done in chunks of kernel_chunk_elements, and partials are folded at the end of every
// chunk. A chunk that turns out to hold a non-finite value is rolled back and redone by a scalar
// path that leaves those pairs out and counts them; it keeps the same lanes and folding cadence.
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
constexpr std::size_t groups_per_fold = 32;  // groups between folds into double
constexpr std::size_t interleave = 2;        // sets of product partials (16 terms per lane each)
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

// Single-precision partial sums of products for one interleave set.
struct partials {
  v8f aa{}, bb{}, ab{}, dd{};
};

// Everything the kernel carries from group to group. The product sums of consecutive groups
// alternate between two sets of partials (group g of a chunk goes to set g % 2), which halves the
// dependency chains of the FMAs; the plain sums have one partial each. Partials fold into the
// double lanes in a fixed order. (Sixteen 256-bit registers hold exactly the fast path's state.)
struct kernel_state {
  v8f part_a{}, part_b{};
  partials part[interleave];
  std::size_t groups_in_part = 0;
  v4d sum_a[2]{}, sum_b[2]{}, sum_aa[2]{}, sum_bb[2]{}, sum_ab[2]{}, sum_dd[2]{};  // double lanes
  v8f lo_a = splat(f_inf), hi_a = splat(-f_inf), lo_b = splat(f_inf), hi_b = splat(-f_inf);
  std::uint64_t equal = 0, count = 0, nonfinite_a = 0, nonfinite_b = 0;

  static void fold_part(v8f& part, v4d (&into)[2]) {
    into[0] += widen_low(part);
    into[1] += widen_high(part);
    part = v8f{};
  }
  void fold() {
    fold_part(part_a, sum_a);
    fold_part(part_b, sum_b);
    for (auto& p : part) {
      fold_part(p.aa, sum_aa);
      fold_part(p.bb, sum_bb);
      fold_part(p.ab, sum_ab);
      fold_part(p.dd, sum_dd);
    }
    groups_in_part = 0;
  }
  // Called after each group of eight pairs.
  void group_done() {
    if (++groups_in_part == groups_per_fold) fold();
  }
  static double total(const v4d (&lanes2)[2]) {
    return ((lanes2[0][0] + lanes2[0][1]) + (lanes2[0][2] + lanes2[0][3])) +
           ((lanes2[1][0] + lanes2[1][1]) + (lanes2[1][2] + lanes2[1][3]));
  }
};

inline v8i bits_of(v8f x) {
  v8i bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

// Loaders: eight elements of one side as floats, exact for every supported type but F64. -------
struct load_f32 {
  const std::byte* data;
  v8f operator()(std::size_t i) const {
    v8f v;
    std::memcpy(&v, data + 4 * i, sizeof v);
    return v;
  }
};

struct load_bf16 {
  const std::byte* data;
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

// Any element of any supported type as double (the scalar and F64 paths).
inline double element(lineage::element_run run, std::size_t i) {
  using lineage::dtype;
  const std::byte* p = run.data + i * lineage::dtype_size(run.type);
  switch (run.type) {
    case dtype::f64: {
      double v;
      std::memcpy(&v, p, 8);
      return v;
    }
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
  }
  return 0;
}

// The fast path over whole groups [first, last) of one chunk. Returns false, leaving `state` in an
// unspecified condition, when the chunk held a non-finite value. That needs no test per element:
// a NaN or ±Inf makes the squared terms, and so the double lanes of Σ(a−s)² or Σ(b−s)², non-finite
// (the double lanes are finite on entry, because earlier chunks with such values were redone).
template <typename LoadA, typename LoadB>
bool chunk_fast(LoadA load_a, LoadB load_b, std::size_t first, std::size_t last, v8f shift_a,
                v8f shift_b, kernel_state& s) {
  // Work on local copies so the compiler keeps the accumulators in registers.
  v8f part_a = s.part_a, part_b = s.part_b;
  partials p0 = s.part[0], p1 = s.part[1];
  v8f lo_a = s.lo_a, hi_a = s.hi_a, lo_b = s.lo_b, hi_b = s.hi_b;
  std::size_t groups = s.groups_in_part;
  v8i equal{};
  const auto one_group = [&](std::size_t i, partials& p) {
    const v8f x = load_a(i), y = load_b(i);
    equal -= bits_of(x) == bits_of(y);
    lo_a = x < lo_a ? x : lo_a;
    hi_a = x > hi_a ? x : hi_a;
    lo_b = y < lo_b ? y : lo_b;
    hi_b = y > hi_b ? y : hi_b;
    const v8f dx = x - shift_a, dy = y - shift_b, d = x - y;
    part_a += dx;
    part_b += dy;
    p.aa = fused_multiply_add(dx, dx, p.aa);
    p.bb = fused_multiply_add(dy, dy, p.bb);
    p.ab = fused_multiply_add(dx, dy, p.ab);
    p.dd = fused_multiply_add(d, d, p.dd);
  };
  const auto write_back = [&] {
    s.part_a = part_a;
    s.part_b = part_b;
    s.part[0] = p0;
    s.part[1] = p1;
    s.groups_in_part = groups;
  };
  std::size_t i = first;
  for (; i + interleave * lanes <= last; i += interleave * lanes) {
    one_group(i, p0);
    one_group(i + lanes, p1);
    groups += interleave;
    if (groups == groups_per_fold) {
      write_back();
      s.fold();
      part_a = part_b = v8f{};
      p0 = p1 = partials{};
      groups = 0;
    }
  }
  if (i < last) {
    one_group(i, p0);
    ++groups;
  }
  write_back();
  s.lo_a = lo_a;
  s.hi_a = hi_a;
  s.lo_b = lo_b;
  s.hi_b = hi_b;
  s.fold();
  for (std::size_t half = 0; half < 2; ++half)
    for (std::size_t k = 0; k < 4; ++k)
      if (!std::isfinite(s.sum_aa[half][k]) || !std::isfinite(s.sum_bb[half][k])) return false;
  for (std::size_t k = 0; k < lanes; ++k) s.equal += static_cast<std::uint64_t>(equal[k]);
  s.count += last - first;
  return true;
}

// The exact path: pairs [first, last) one by one, in groups of eight with the fast path's lanes.
// Pairs with a non-finite value are counted per side and left out of every sum.
template <typename T>
void chunk_scalar(lineage::element_run a, lineage::element_run b, std::size_t first,
                  std::size_t last, T shift_a, T shift_b, kernel_state& s);

template <>
void chunk_scalar<float>(lineage::element_run a, lineage::element_run b, std::size_t first,
                         std::size_t last, float shift_a, float shift_b, kernel_state& s) {
  for (std::size_t group = first; group < last; group += lanes) {
    v8f x{}, y{}, keep_x{}, keep_y{};
    v8i keep{};
    const std::size_t width = std::min(lanes, last - group);
    for (std::size_t k = 0; k < width; ++k) {
      x[k] = static_cast<float>(element(a, group + k));
      y[k] = static_cast<float>(element(b, group + k));
      s.equal += std::bit_cast<std::uint32_t>(x[k]) == std::bit_cast<std::uint32_t>(y[k]);
      const bool finite_x = std::isfinite(x[k]), finite_y = std::isfinite(y[k]);
      s.nonfinite_a += !finite_x;
      s.nonfinite_b += !finite_y;
      if (finite_x) {
        s.lo_a[k] = std::min(s.lo_a[k], x[k]);
        s.hi_a[k] = std::max(s.hi_a[k], x[k]);
      }
      if (finite_y) {
        s.lo_b[k] = std::min(s.lo_b[k], y[k]);
        s.hi_b[k] = std::max(s.hi_b[k], y[k]);
      }
      if (finite_x && finite_y) {
        keep[k] = -1;
        keep_x[k] = x[k];
        keep_y[k] = y[k];
        ++s.count;
      }
    }
    // Left-out lanes contribute exactly zero: x = shift and y = shift there would still add
    // (shift_a − shift_b)² to Σd², so the terms are masked after they are formed.
    const v8f dx = keep_x - splat(shift_a), dy = keep_y - splat(shift_b), d = keep_x - keep_y;
    const v8f zero{};
    const v8f mdx = keep ? dx : zero, mdy = keep ? dy : zero, md = keep ? d : zero;
    partials& p = s.part[((group - first) / lanes) % interleave];
    s.part_a += mdx;
    s.part_b += mdy;
    p.aa = fused_multiply_add(mdx, mdx, p.aa);
    p.bb = fused_multiply_add(mdy, mdy, p.bb);
    p.ab = fused_multiply_add(mdx, mdy, p.ab);
    p.dd = fused_multiply_add(md, md, p.dd);
    s.group_done();
  }
}

// F64 on either side: every term in double, directly into the double lanes.
template <>
void chunk_scalar<double>(lineage::element_run a, lineage::element_run b, std::size_t first,
                          std::size_t last, double shift_a, double shift_b, kernel_state& s) {
  for (std::size_t i = first; i < last; ++i) {
    const std::size_t lane = (i - first) % lanes, half = lane / 4, slot = lane % 4;
    const double x = element(a, i), y = element(b, i);
    s.equal += std::bit_cast<std::uint64_t>(x) == std::bit_cast<std::uint64_t>(y);
    const bool finite_x = std::isfinite(x), finite_y = std::isfinite(y);
    s.nonfinite_a += !finite_x;
    s.nonfinite_b += !finite_y;
    if (finite_x) {
      s.lo_a[lane] = std::min(s.lo_a[lane], static_cast<float>(x));
      s.hi_a[lane] = std::max(s.hi_a[lane], static_cast<float>(x));
    }
    if (finite_y) {
      s.lo_b[lane] = std::min(s.lo_b[lane], static_cast<float>(y));
      s.hi_b[lane] = std::max(s.hi_b[lane], static_cast<float>(y));
    }
    if (!finite_x || !finite_y) continue;
    ++s.count;
    const double dx = x - shift_a, dy = y - shift_b, d = x - y;
    s.sum_a[half][slot] += dx;
    s.sum_b[half][slot] += dy;
    s.sum_aa[half][slot] = std::fma(dx, dx, s.sum_aa[half][slot]);
    s.sum_bb[half][slot] = std::fma(dy, dy, s.sum_bb[half][slot]);
    s.sum_ab[half][slot] = std::fma(dx, dy, s.sum_ab[half][slot]);
    s.sum_dd[half][slot] = std::fma(d, d, s.sum_dd[half][slot]);
  }
}

// The mean of the block's first finite values: a shift near the mean keeps the centred sums
// accurate for vectors with a large mean and a small spread, and a fixed rule keeps the result a
// function of the block alone.
inline double choose_shift(lineage::element_run run, std::uint64_t count) {
  constexpr std::size_t sample = 256;
  double total = 0;
  std::size_t used = 0;
  for (std::size_t i = 0; i < count && used < sample; ++i) {
    const double v = element(run, i);
    if (!std::isfinite(v)) continue;
    total += v;
    ++used;
  }
  return used == 0 ? 0.0 : total / static_cast<double>(used);
}

template <typename LoadA, typename LoadB>
void run_float_blocks(LoadA load_a, LoadB load_b, lineage::element_run a, lineage::element_run b,
                      std::uint64_t count, float shift_a, float shift_b, kernel_state& s) {
  constexpr std::size_t chunk = lineage::kernel_chunk_elements;
  static_assert(chunk % (lanes * groups_per_fold) == 0, "chunks must end on a fold boundary");
  const v8f sa = splat(shift_a), sb = splat(shift_b);
  const std::size_t whole = static_cast<std::size_t>(count) / lanes * lanes;
  for (std::size_t start = 0; start < whole; start += chunk) {
    const std::size_t end = std::min(whole, start + chunk);
    const kernel_state before = s;
    if (!chunk_fast(load_a, load_b, start, end, sa, sb, s)) {
      s = before;
      chunk_scalar<float>(a, b, start, end, shift_a, shift_b, s);
      s.fold();
    }
  }
  if (whole < count) chunk_scalar<float>(a, b, whole, static_cast<std::size_t>(count), shift_a, shift_b, s);
}

// Instantiates the fused loop for the loader of each side's dtype; F8 goes through the scalar path.
template <typename LoadA>
void dispatch_b(LoadA load_a, lineage::element_run a, lineage::element_run b, std::uint64_t count,
                float shift_a, float shift_b, kernel_state& s) {
  using lineage::dtype;
  switch (b.type) {
    case dtype::f32: return run_float_blocks(load_a, load_f32{b.data}, a, b, count, shift_a, shift_b, s);
    case dtype::bf16: return run_float_blocks(load_a, load_bf16{b.data}, a, b, count, shift_a, shift_b, s);
    case dtype::f16: return run_float_blocks(load_a, load_f16{b.data}, a, b, count, shift_a, shift_b, s);
    default: chunk_scalar<float>(a, b, 0, static_cast<std::size_t>(count), shift_a, shift_b, s);
  }
}

}  // namespace

namespace lineage::LINEAGE_KERNEL_NAMESPACE {

kernel_sums compute(element_run a, element_run b, std::uint64_t count) {
  kernel_state s;
  kernel_sums out;
  out.elements = count;
  if (a.type == dtype::f64 || b.type == dtype::f64) {
    out.shift_a = choose_shift(a, count);
    out.shift_b = choose_shift(b, count);
    chunk_scalar<double>(a, b, 0, static_cast<std::size_t>(count), out.shift_a, out.shift_b, s);
  } else {
    // The float path subtracts float shifts; record exactly those.
    const auto shift_a = static_cast<float>(choose_shift(a, count));
    const auto shift_b = static_cast<float>(choose_shift(b, count));
    out.shift_a = shift_a;
    out.shift_b = shift_b;
    switch (a.type) {
      case dtype::f32: dispatch_b(load_f32{a.data}, a, b, count, shift_a, shift_b, s); break;
      case dtype::bf16: dispatch_b(load_bf16{a.data}, a, b, count, shift_a, shift_b, s); break;
      case dtype::f16: dispatch_b(load_f16{a.data}, a, b, count, shift_a, shift_b, s); break;
      default: chunk_scalar<float>(a, b, 0, static_cast<std::size_t>(count), shift_a, shift_b, s);
    }
    s.fold();
  }
  out.count = s.count;
  out.bitwise_equal = s.equal;
  out.nonfinite_a = s.nonfinite_a;
  out.nonfinite_b = s.nonfinite_b;
  out.sum_a = kernel_state::total(s.sum_a);
  out.sum_b = kernel_state::total(s.sum_b);
  out.sum_aa = kernel_state::total(s.sum_aa);
  out.sum_bb = kernel_state::total(s.sum_bb);
  out.sum_ab = kernel_state::total(s.sum_ab);
  out.sum_dd = kernel_state::total(s.sum_dd);
  float lo_a = f_inf, hi_a = -f_inf, lo_b = f_inf, hi_b = -f_inf;
  for (std::size_t k = 0; k < lanes; ++k) {
    lo_a = std::min(lo_a, s.lo_a[k]);
    hi_a = std::max(hi_a, s.hi_a[k]);
    lo_b = std::min(lo_b, s.lo_b[k]);
    hi_b = std::max(hi_b, s.hi_b[k]);
  }
  out.min_a = lo_a;
  out.max_a = hi_a;
  out.min_b = lo_b;
  out.max_b = hi_b;
  return out;
}

}  // namespace lineage::LINEAGE_KERNEL_NAMESPACE
