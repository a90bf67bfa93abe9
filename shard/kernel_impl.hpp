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
//
// The parts: kernel_lanes.hpp (vector types, lane arithmetic, state), kernel_loaders.hpp (dtype
// loaders), this file (the fast and exact paths and the block entry point), kernel_dots.hpp
// (row products for the nulls and the similarity matrices) and kernel_gram.hpp (products with WᵀW
// for the fingerprints).
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "shard/kernel_lanes.hpp"
#include "shard/kernel_loaders.hpp"

namespace {

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

#include "shard/kernel_dots.hpp"
#include "shard/kernel_gram.hpp"
#include "shard/kernel_spectra.hpp"

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
