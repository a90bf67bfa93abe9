// The AVX2 + FMA + F16C (+ POPCNT) kernel variant.
//
// Only the kernel itself is compiled for AVX2 (by pragma, after every header is in): compiling the
// whole file with -mavx2 would let AVX2 copies of inline library functions win at link time and
// crash the portable path on CPUs without AVX2.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "shard/kernel.hpp"

// clang (the sanitizer and fuzz build) has no GCC target pragma; its attribute pragma does the same.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,popcnt"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,popcnt")
#endif
#define LINEAGE_KERNEL_NAMESPACE kernel_avx2
#define LINEAGE_KERNEL_USE_AVX2 1
#include "shard/kernel_impl.hpp"
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
