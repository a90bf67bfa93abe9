// Part of the statistics kernel (kernel_impl.hpp): the running sums of the cyclic nulls' spectra
// (shard/cyclic_correlation.hpp). Included once per instruction set, inside
// lineage::LINEAGE_KERNEL_NAMESPACE; no include guard on purpose.
//
// For bins k of two half spectra x and y (interleaved real and imaginary parts):
//   total[2k]     += xr·yr + xi·yi       total[2k + 1] += xr·yi − xi·yr      (conj(x)·y)
//   squares[2k]   += xr·xr + xi·xi       squares[2k + 1] += yr·yr + yi·yi     (|x|², |y|²)
// Two bins per four-lane vector: the products of a bin's parts are summed pairwise (the odd lane
// of xr·yi, xi·yr negated, so that the pair's sum is the difference), which is the same rounding,
// operation by operation, as the scalar formulas above (no FMA: the build does not contract).
void spectrum_sums(const double* x, const double* y, std::size_t bins, double* total, double* squares) {
  const v4d negate_odd{1.0, -1.0, 1.0, -1.0};
  std::size_t k = 0;
  for (; k + 2 <= bins; k += 2) {
    v4d u, w, t, s;
    std::memcpy(&u, x + 2 * k, sizeof u);
    std::memcpy(&w, y + 2 * k, sizeof w);
    std::memcpy(&t, total + 2 * k, sizeof t);
    std::memcpy(&s, squares + 2 * k, sizeof s);
    const v4d same = u * w, crossed = u * __builtin_shufflevector(w, w, 1, 0, 3, 2) * negate_odd;
    // [same0 + same1, crossed0 + crossed1, same2 + same3, crossed2 + crossed3]
    t += __builtin_shufflevector(same, crossed, 0, 4, 2, 6) + __builtin_shufflevector(same, crossed, 1, 5, 3, 7);
    const v4d xx = u * u, yy = w * w;
    s += __builtin_shufflevector(xx, yy, 0, 4, 2, 6) + __builtin_shufflevector(xx, yy, 1, 5, 3, 7);
    std::memcpy(total + 2 * k, &t, sizeof t);
    std::memcpy(squares + 2 * k, &s, sizeof s);
  }
  for (; k < bins; ++k) {
    const double xr = x[2 * k], xi = x[2 * k + 1], yr = y[2 * k], yi = y[2 * k + 1];
    total[2 * k] += xr * yr + xi * yi;
    total[2 * k + 1] += xr * yi - xi * yr;
    squares[2 * k] += xr * xr + xi * xi;
    squares[2 * k + 1] += yr * yr + yi * yi;
  }
}
