// Part of the statistics kernel (kernel_impl.hpp): the dot products of float rows — row_dot for
// the permutation nulls, dot_matrix for the similarity matrices of expert and neuron matching.
// Included once per instruction set, inside lineage::LINEAGE_KERNEL_NAMESPACE; no include guard on
// purpose.

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

// The similarity matrices' dot product: one accumulator of eight lanes per dot, fused
// multiply-adds in single precision (one instruction for a product and its sum: twice the dots per
// cycle of a multiply and an add), folded into double in a fixed order, the tail in double. A tile of 4 × 2
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
  for (std::size_t k = 0; k < body; k += lanes) acc = fused_multiply_add(load8(x + k), load8(y + k), acc);
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
    acc[0][0] = fused_multiply_add(x0, y0, acc[0][0]);
    acc[0][1] = fused_multiply_add(x0, y1, acc[0][1]);
    acc[1][0] = fused_multiply_add(x1, y0, acc[1][0]);
    acc[1][1] = fused_multiply_add(x1, y1, acc[1][1]);
    acc[2][0] = fused_multiply_add(x2, y0, acc[2][0]);
    acc[2][1] = fused_multiply_add(x2, y1, acc[2][1]);
    acc[3][0] = fused_multiply_add(x3, y0, acc[3][0]);
    acc[3][1] = fused_multiply_add(x3, y1, acc[3][1]);
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
