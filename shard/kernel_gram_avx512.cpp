// The fingerprints' product with WᵀW (kernel_gram.hpp's gram_block) on AVX-512: the same fused
// multiply-adds on the same values in the same order, so that it returns the bits of every other
// variant.
//
// First sum, y_r = Σ_j w_rj q_j (j in order): eight rows at a time in eight-lane registers, as the
// AVX2 variant. Second sum, z_j = Σ_r w_rj y_r (r in order, across the groups of rows): two columns
// per sixteen-lane register, sixteen columns at a time (eight independent sums), their lanes
// interleaved so that one 64-bit broadcast loads both columns' w; the lanes go back in order at the
// end. Measured (docs/PERFORMANCE.md, shape-free fingerprints): the second sum at twice the
// multiply-adds per cycle; sixteen rows per group in sixteen-lane registers for the first sum were
// slower (two loads per multiply-add, and the group no longer fits the L2 cache beside q and z).
//
// Compiled for AVX-512 by pragma, after every header is in (as kernel_avx2.cpp).
#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "shard/kernel.hpp"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,avx512f,avx512vl"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f,avx512vl")
#endif

namespace lineage::kernel_avx512 {
namespace {

constexpr std::size_t lanes = kernel_lanes;  // eight: one basis column per lane
constexpr std::size_t group = 8;             // rows per group
constexpr std::size_t columns = 16;          // columns per second sum

// y_r = Σ_j w_rj q_j (j in order) of the group's eight rows, one eight-lane register each: the loop
// of kernel_gram.hpp, written again here so that it is compiled for AVX-512 (broadcasts folded
// into the multiply-adds, 32 registers). Calling the AVX2 variant's copy instead made the
// fingerprint of a 4096 × 11008 matrix 0.20 → 0.30 s. A group of fewer rows
// repeats its last row; the second sum uses only the group's own rows.
void row_sums(const float* const* row, std::size_t length, const float* q, __m256* y) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
  for (std::size_t j = 0; j < length; ++j) {
    const __m256 qj = _mm256_loadu_ps(q + j * lanes);
    s0 = _mm256_fmadd_ps(_mm256_set1_ps(row[0][j]), qj, s0);
    s1 = _mm256_fmadd_ps(_mm256_set1_ps(row[1][j]), qj, s1);
    s2 = _mm256_fmadd_ps(_mm256_set1_ps(row[2][j]), qj, s2);
    s3 = _mm256_fmadd_ps(_mm256_set1_ps(row[3][j]), qj, s3);
    s4 = _mm256_fmadd_ps(_mm256_set1_ps(row[4][j]), qj, s4);
    s5 = _mm256_fmadd_ps(_mm256_set1_ps(row[5][j]), qj, s5);
    s6 = _mm256_fmadd_ps(_mm256_set1_ps(row[6][j]), qj, s6);
    s7 = _mm256_fmadd_ps(_mm256_set1_ps(row[7][j]), qj, s7);
  }
  y[0] = s0, y[1] = s1, y[2] = s2, y[3] = s3, y[4] = s4, y[5] = s5, y[6] = s6, y[7] = s7;
}

// x's lanes in the order `index` gives (the zero-masked form: GCC 12's plain one passes an undefined
// vector through and warns that it is uninitialised).
inline __m512 permute(__m512i index, __m512 x) { return _mm512_maskz_permutexvar_ps(0xFFFF, index, x); }

// [*at, *(at + 1), *at, *(at + 1), …]: one 64-bit broadcast.
inline __m512 pair_splat(const float* at) {
  double both;
  std::memcpy(&both, at, sizeof both);
  return _mm512_castpd_ps(_mm512_set1_pd(both));
}

// z_j … z_j+15 from Σ_r w_rj y_r over the group's `count` rows, r in order, added to z unless
// `first`; yy[r] = y_r with each lane doubled. Columns j + 2m and j + 2m + 1 share a register,
// interleaved lane by lane (lane 2c + h: column j + 2m + h, basis column c), so that one 64-bit
// broadcast gives both their w; gram_block puts the lanes back in order at the end.
void column_sums16(const float* w, std::size_t count, std::size_t length, const __m512* yy, std::size_t j, bool first,
                   float* z) {
  __m512 s0, s1, s2, s3, s4, s5, s6, s7;
  if (first) {
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = _mm512_setzero_ps();
  } else {
    s0 = _mm512_loadu_ps(z + j * lanes), s1 = _mm512_loadu_ps(z + (j + 2) * lanes);
    s2 = _mm512_loadu_ps(z + (j + 4) * lanes), s3 = _mm512_loadu_ps(z + (j + 6) * lanes);
    s4 = _mm512_loadu_ps(z + (j + 8) * lanes), s5 = _mm512_loadu_ps(z + (j + 10) * lanes);
    s6 = _mm512_loadu_ps(z + (j + 12) * lanes), s7 = _mm512_loadu_ps(z + (j + 14) * lanes);
  }
  for (std::size_t r = 0; r < count; ++r) {
    const float* at = w + r * length + j;
    const __m512 y = yy[r];
    s0 = _mm512_fmadd_ps(pair_splat(at + 0), y, s0);
    s1 = _mm512_fmadd_ps(pair_splat(at + 2), y, s1);
    s2 = _mm512_fmadd_ps(pair_splat(at + 4), y, s2);
    s3 = _mm512_fmadd_ps(pair_splat(at + 6), y, s3);
    s4 = _mm512_fmadd_ps(pair_splat(at + 8), y, s4);
    s5 = _mm512_fmadd_ps(pair_splat(at + 10), y, s5);
    s6 = _mm512_fmadd_ps(pair_splat(at + 12), y, s6);
    s7 = _mm512_fmadd_ps(pair_splat(at + 14), y, s7);
  }
  _mm512_storeu_ps(z + j * lanes, s0), _mm512_storeu_ps(z + (j + 2) * lanes, s1);
  _mm512_storeu_ps(z + (j + 4) * lanes, s2), _mm512_storeu_ps(z + (j + 6) * lanes, s3);
  _mm512_storeu_ps(z + (j + 8) * lanes, s4), _mm512_storeu_ps(z + (j + 10) * lanes, s5);
  _mm512_storeu_ps(z + (j + 12) * lanes, s6), _mm512_storeu_ps(z + (j + 14) * lanes, s7);
}

void gram_rows(const float* w, std::size_t count, std::size_t length, const float* q, float* z, bool first) {
  const float* row[group];
  for (std::size_t r = 0; r < group; ++r) row[r] = w + std::min(r, count - 1) * length;
  __m256 y[group];
  row_sums(row, length, q, y);
  const __m512i doubled = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
  __m512 yy[group];
  for (std::size_t r = 0; r < count; ++r) yy[r] = permute(doubled, _mm512_castps256_ps512(y[r]));
  std::size_t j = 0;
  for (; j + columns <= length; j += columns) column_sums16(w, count, length, yy, j, first, z);
  for (; j < length; ++j) {  // the last columns one at a time
    __m256 sum = first ? _mm256_setzero_ps() : _mm256_loadu_ps(z + j * lanes);
    for (std::size_t r = 0; r < count; ++r) sum = _mm256_fmadd_ps(_mm256_set1_ps(row[r][j]), y[r], sum);
    _mm256_storeu_ps(z + j * lanes, sum);
  }
}

// Columns j + 2m and j + 2m + 1 of every whole sixteen back from interleaved lanes to z's rows.
void deinterleave(float* z, std::size_t length) {
  const __m512i order = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  for (std::size_t j = 0; j + columns <= length; j += columns)
    for (std::size_t m = 0; m < columns; m += 2) {
      float* at = z + (j + m) * lanes;
      _mm512_storeu_ps(at, permute(order, _mm512_loadu_ps(at)));
    }
}

}  // namespace

void gram_block(const float* w, std::size_t rows, std::size_t length, const float* q, float* z) {
  if (rows == 0) {
    std::fill(z, z + length * lanes, 0.0f);
    return;
  }
  for (std::size_t r = 0; r < rows; r += group)
    gram_rows(w + r * length, std::min(group, rows - r), length, q, z, r == 0);
  deinterleave(z, length);
}

}  // namespace lineage::kernel_avx512

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
