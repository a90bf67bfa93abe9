// Part of the statistics kernel (kernel_impl.hpp): the product with WᵀW of an eight-column basis,
// block by block, for the shape-free fingerprints' singular values (shard/fingerprint.cpp).
// Included once per instruction set, inside lineage::LINEAGE_KERNEL_NAMESPACE; no include guard on
// purpose.
//
// z = Wᵀ (W q) for a block of `rows` rows of `length` floats (row-major), q and z `length` × 8
// (row j holds the eight basis columns' entries j). y_r = Σ_j w_rj q_j runs in one eight-lane
// accumulator per row, j in order; then z_j = Σ_r w_rj y_r, r in order. Every step is an explicit
// fused multiply-add on the same lanes in the same order, so every variant returns the same bits.
// Rows go eight at a time through the first sum (eight independent accumulators) and four columns
// j at a time through the second (four independent sums), so that neither waits on its own adds.

inline void gram_rows(const float* w, std::size_t count, std::size_t length, const float* q, float* z, bool first) {
  // A last group of fewer than eight rows repeats its last row in the first sum; the second uses
  // only the group's own rows.
  const float* row[8];
  for (std::size_t r = 0; r < 8; ++r) row[r] = w + std::min(r, count - 1) * length;
  // Named accumulators, not an array: an array indexed in a loop stays in memory, and every
  // multiply-add would wait on a store.
  v8f y0{}, y1{}, y2{}, y3{}, y4{}, y5{}, y6{}, y7{};
  for (std::size_t j = 0; j < length; ++j) {
    const v8f qj = load8(q + j * lanes);
    y0 = fused_multiply_add(splat(row[0][j]), qj, y0);
    y1 = fused_multiply_add(splat(row[1][j]), qj, y1);
    y2 = fused_multiply_add(splat(row[2][j]), qj, y2);
    y3 = fused_multiply_add(splat(row[3][j]), qj, y3);
    y4 = fused_multiply_add(splat(row[4][j]), qj, y4);
    y5 = fused_multiply_add(splat(row[5][j]), qj, y5);
    y6 = fused_multiply_add(splat(row[6][j]), qj, y6);
    y7 = fused_multiply_add(splat(row[7][j]), qj, y7);
  }
  const v8f y[8] = {y0, y1, y2, y3, y4, y5, y6, y7};
  // Columns j … j + 3 of z: four independent sums over the rows; a whole group of eight rows with
  // its sums written out, so that y stays in registers.
  std::size_t j = 0;
  const auto add_row = [&](const float* at, v8f yr, v8f& s0, v8f& s1, v8f& s2, v8f& s3) {
    s0 = fused_multiply_add(splat(at[0]), yr, s0);
    s1 = fused_multiply_add(splat(at[1]), yr, s1);
    s2 = fused_multiply_add(splat(at[2]), yr, s2);
    s3 = fused_multiply_add(splat(at[3]), yr, s3);
  };
  for (; count == 8 && j + 4 <= length; j += 4) {
    v8f s0{}, s1{}, s2{}, s3{};
    if (!first) s0 = load8(z + j * lanes), s1 = load8(z + (j + 1) * lanes), s2 = load8(z + (j + 2) * lanes),
                s3 = load8(z + (j + 3) * lanes);
    add_row(row[0] + j, y0, s0, s1, s2, s3);
    add_row(row[1] + j, y1, s0, s1, s2, s3);
    add_row(row[2] + j, y2, s0, s1, s2, s3);
    add_row(row[3] + j, y3, s0, s1, s2, s3);
    add_row(row[4] + j, y4, s0, s1, s2, s3);
    add_row(row[5] + j, y5, s0, s1, s2, s3);
    add_row(row[6] + j, y6, s0, s1, s2, s3);
    add_row(row[7] + j, y7, s0, s1, s2, s3);
    std::memcpy(z + j * lanes, &s0, sizeof s0);
    std::memcpy(z + (j + 1) * lanes, &s1, sizeof s1);
    std::memcpy(z + (j + 2) * lanes, &s2, sizeof s2);
    std::memcpy(z + (j + 3) * lanes, &s3, sizeof s3);
  }
  for (; j + 4 <= length; j += 4) {
    v8f s0{}, s1{}, s2{}, s3{};
    if (!first) s0 = load8(z + j * lanes), s1 = load8(z + (j + 1) * lanes), s2 = load8(z + (j + 2) * lanes),
                s3 = load8(z + (j + 3) * lanes);
    for (std::size_t r = 0; r < count; ++r) add_row(row[r] + j, y[r], s0, s1, s2, s3);
    std::memcpy(z + j * lanes, &s0, sizeof s0);
    std::memcpy(z + (j + 1) * lanes, &s1, sizeof s1);
    std::memcpy(z + (j + 2) * lanes, &s2, sizeof s2);
    std::memcpy(z + (j + 3) * lanes, &s3, sizeof s3);
  }
  for (; j < length; ++j) {
    v8f sum = first ? v8f{} : load8(z + j * lanes);
    for (std::size_t r = 0; r < count; ++r) sum = fused_multiply_add(splat(row[r][j]), y[r], sum);
    std::memcpy(z + j * lanes, &sum, sizeof sum);
  }
}

void gram_block(const float* w, std::size_t rows, std::size_t length, const float* q, float* z) {
  if (rows == 0) {
    std::fill(z, z + length * lanes, 0.0f);
    return;
  }
  for (std::size_t r = 0; r < rows; r += 8) gram_rows(w + r * length, std::min<std::size_t>(8, rows - r), length, q, z, r == 0);
}
