#include "shard/hidden_rotation.hpp"

#include <Eigen/Dense>
#include <Eigen/SVD>

#include <algorithm>
#include <cmath>

#include "shard/work_block.hpp"

namespace lineage {
namespace {

using matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using float_rows = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

// Rows are turned into doubles a chunk at a time, so the estimate holds the rows once (as floats)
// and a few width × width matrices, never the rows in double.
constexpr std::uint64_t chunk_rows = 256;

float_rows rows_of(const std::vector<float>& values, std::uint64_t first, std::uint64_t count, std::uint64_t width) {
  return float_rows(values.data() + first * width, static_cast<Eigen::Index>(count), static_cast<Eigen::Index>(width));
}

// Bᵀ·A over rows [first, first + count), accumulated in double chunk by chunk.
matrix cross_products(const std::vector<float>& a, const std::vector<float>& b, std::uint64_t first,
                      std::uint64_t count, std::uint64_t width) {
  matrix cross = matrix::Zero(static_cast<Eigen::Index>(width), static_cast<Eigen::Index>(width));
  for (std::uint64_t r = first; r < first + count; r += chunk_rows) {
    const std::uint64_t n = std::min(chunk_rows, first + count - r);
    cross.noalias() += rows_of(b, r, n, width).cast<double>().transpose() * rows_of(a, r, n, width).cast<double>();
  }
  return cross;
}

// R = UVᵀ from Bᵀ·A = U·S·Vᵀ: the orthogonal map that takes B's rows closest to A's. The SVD runs
// in single precision (the products were summed in double): R is applied in floats anyway, and
// this halves what the estimate holds.
matrix procrustes(const matrix& cross) {
  using float_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::BDCSVD<float_matrix> svd(cross.cast<float>(), Eigen::ComputeThinU | Eigen::ComputeThinV);
  return (svd.matrixU() * svd.matrixV().transpose()).cast<double>();
}

// Pearson correlation over all elements of A's rows [first, first + count) and of B's read through
// `read` (a function of one chunk of B's rows in double, returning them in A's frame).
template <typename Read>
double held_out_fit(const std::vector<float>& a, const std::vector<float>& b, std::uint64_t first,
                    std::uint64_t count, std::uint64_t width, const Read& read) {
  double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (std::uint64_t r = first; r < first + count; r += chunk_rows) {
    const std::uint64_t rows = std::min(chunk_rows, first + count - r);
    const matrix x = rows_of(a, r, rows, width).cast<double>();
    const matrix y = read(rows_of(b, r, rows, width).cast<double>());
    n += static_cast<double>(x.size());
    sx += x.sum(), sy += y.sum();
    sxx += x.squaredNorm(), syy += y.squaredNorm();
    sxy += (x.array() * y.array()).sum();
  }
  const double cxy = sxy - sx * sy / n, cxx = sxx - sx * sx / n, cyy = syy - sy * sy / n;
  return cxx > 0 && cyy > 0 ? cxy / std::sqrt(cxx * cyy) : 0.0;
}

}  // namespace

hidden_rotation_estimate estimate_hidden_rotation(const std::vector<float>& a, const std::vector<float>& b,
                                                  std::uint64_t rows, std::uint64_t width,
                                                  const std::vector<std::uint32_t>& order) {
  hidden_rotation_estimate out;
  const std::uint64_t half = rows / 2;
  if (half < 2 || width < 2 || a.size() != rows * width || b.size() != rows * width) return out;
  const matrix first_half = cross_products(a, b, 0, half, width);
  {
    const matrix held_out = procrustes(first_half);
    out.rotation_fit = held_out_fit(a, b, half, half, width, [&](const matrix& y) { return matrix(y * held_out); });
  }
  out.identity_fit = held_out_fit(a, b, half, half, width, [](const matrix& y) { return y; });
  if (order.size() == width)
    out.permutation_fit = held_out_fit(a, b, half, half, width, [&](const matrix& y) {
      matrix permuted(y.rows(), y.cols());
      for (std::uint64_t d = 0; d < width; ++d) {
        const auto j = static_cast<Eigen::Index>(index_of(order[d]));
        permuted.col(static_cast<Eigen::Index>(d)) = is_negated(order[d]) ? (-y.col(j)).eval() : y.col(j);
      }
      return permuted;
    });
  // The rotation applied is estimated on all compared rows.
  const matrix both = procrustes(first_half + cross_products(a, b, half, half, width));
  out.rotation.resize(width * width);
  for (std::uint64_t j = 0; j < width; ++j)
    for (std::uint64_t d = 0; d < width; ++d)
      out.rotation[j * width + d] = static_cast<float>(both(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(d)));
  return out;
}

}  // namespace lineage
