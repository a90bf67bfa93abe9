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
// cycle of a multiply and an add), folded into double in a fixed order, the tail in double. A tile of
// 4 × 3 dots shares its loads (12 accumulators, 7 loads per 12 multiply-adds; 4 × 2 took 6 per 8,
// and neuron matching 17 % longer); every dot performs the same operations in the same order
// wherever it lies, so the matrix does not depend on the tiling, the instruction set or the rank.
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

// Rows [i, i + 4) of a against rows [j, j + 3) of b: twelve accumulators, three loads of b and
// four of a for twelve multiply-adds (the registers hold the twelve, the three and one of a).
inline void tile_dots(const float* a, const float* b, std::size_t i, std::size_t j, std::size_t columns,
                      std::size_t body, std::size_t length, double* out) {
  const float* x[4] = {a + i * length, a + (i + 1) * length, a + (i + 2) * length, a + (i + 3) * length};
  const float* y[3] = {b + j * length, b + (j + 1) * length, b + (j + 2) * length};
  v8f acc00{}, acc01{}, acc02{}, acc10{}, acc11{}, acc12{}, acc20{}, acc21{}, acc22{}, acc30{}, acc31{}, acc32{};
  // One row of a against the three of b: named accumulators passed by reference (an array indexed
  // in a loop stays in memory), the same multiply-adds in the same order.
  const auto row = [](v8f xr, v8f y0, v8f y1, v8f y2, v8f& s0, v8f& s1, v8f& s2) {
    s0 = fused_multiply_add(xr, y0, s0);
    s1 = fused_multiply_add(xr, y1, s1);
    s2 = fused_multiply_add(xr, y2, s2);
  };
  for (std::size_t k = 0; k < body; k += lanes) {
    const v8f y0 = load8(y[0] + k), y1 = load8(y[1] + k), y2 = load8(y[2] + k);
    row(load8(x[0] + k), y0, y1, y2, acc00, acc01, acc02);
    row(load8(x[1] + k), y0, y1, y2, acc10, acc11, acc12);
    row(load8(x[2] + k), y0, y1, y2, acc20, acc21, acc22);
    row(load8(x[3] + k), y0, y1, y2, acc30, acc31, acc32);
  }
  const v8f acc[4][3] = {{acc00, acc01, acc02}, {acc10, acc11, acc12}, {acc20, acc21, acc22}, {acc30, acc31, acc32}};
  for (std::size_t r = 0; r < 4; ++r)
    for (std::size_t c = 0; c < 3; ++c) out[(i + r) * columns + j + c] = fold_dot(acc[r][c], x[r], y[c], body, length);
}

void dot_matrix(const float* a, std::size_t rows, const float* b, std::size_t columns, std::size_t length,
                double* out) {
  const std::size_t body = length / lanes * lanes;
  // Columns in panels of about 256 KiB of b, which stay in the L2 cache while every tile of rows
  // passes over them.
  const std::size_t panel =
      std::max<std::size_t>(3, (std::size_t{256} << 10) / (sizeof(float) * std::max<std::size_t>(1, length)) / 3 * 3);
  for (std::size_t first = 0; first < columns; first += panel) {
    const std::size_t last = std::min(columns, first + panel);
    for (std::size_t i = 0; i < rows; i += 4)
      for (std::size_t j = first; j < last; j += 3) {
        if (i + 4 <= rows && j + 3 <= last) {
          tile_dots(a, b, i, j, columns, body, length, out);
          continue;
        }
        for (std::size_t r = i; r < std::min(rows, i + 4); ++r)
          for (std::size_t c = j; c < std::min(last, j + 3); ++c)
            out[r * columns + c] = single_dot(a + r * length, b + c * length, body, length);
      }
  }
}
