#include "shard/hidden_rotation.hpp"

#include <Eigen/Dense>
#include <Eigen/SVD>

#include <cmath>

#include "shard/work_block.hpp"

namespace lineage {
namespace {

using matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

matrix rows_of(const std::vector<float>& values, std::uint64_t first, std::uint64_t count, std::uint64_t width) {
  matrix m(static_cast<Eigen::Index>(count), static_cast<Eigen::Index>(width));
  for (std::uint64_t r = 0; r < count; ++r)
    for (std::uint64_t c = 0; c < width; ++c) m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = values[(first + r) * width + c];
  return m;
}

double pearson(const matrix& x, const matrix& y) {
  const double n = static_cast<double>(x.size());
  const double mean_x = x.sum() / n, mean_y = y.sum() / n;
  const double xy = ((x.array() - mean_x) * (y.array() - mean_y)).sum();
  const double xx = (x.array() - mean_x).square().sum(), yy = (y.array() - mean_y).square().sum();
  return xx > 0 && yy > 0 ? xy / std::sqrt(xx * yy) : 0.0;
}

// R = UVᵀ from Bᵀ·A = U·S·Vᵀ: the orthogonal map that takes B's rows closest to A's.
matrix procrustes(const matrix& a, const matrix& b) {
  const matrix cross = b.transpose() * a;
  Eigen::BDCSVD<matrix> svd(cross, Eigen::ComputeThinU | Eigen::ComputeThinV);
  return svd.matrixU() * svd.matrixV().transpose();
}

}  // namespace

hidden_rotation_estimate estimate_hidden_rotation(const std::vector<float>& a, const std::vector<float>& b,
                                                  std::uint64_t rows, std::uint64_t width,
                                                  const std::vector<std::uint32_t>& order) {
  hidden_rotation_estimate out;
  const std::uint64_t half = rows / 2;
  if (half < 2 || width < 2 || a.size() != rows * width || b.size() != rows * width) return out;
  const matrix a1 = rows_of(a, 0, half, width), b1 = rows_of(b, 0, half, width);
  const matrix a2 = rows_of(a, half, half, width), b2 = rows_of(b, half, half, width);
  const matrix held_out = procrustes(a1, b1);
  out.rotation_fit = pearson(b2 * held_out, a2);
  out.identity_fit = pearson(b2, a2);
  if (order.size() == width) {
    matrix permuted(b2.rows(), b2.cols());
    for (std::uint64_t d = 0; d < width; ++d) {
      const auto j = static_cast<Eigen::Index>(index_of(order[d]));
      permuted.col(static_cast<Eigen::Index>(d)) = is_negated(order[d]) ? (-b2.col(j)).eval() : b2.col(j);
    }
    out.permutation_fit = pearson(permuted, a2);
  }
  // The rotation applied is estimated on all compared rows.
  const matrix both = procrustes(rows_of(a, 0, 2 * half, width), rows_of(b, 0, 2 * half, width));
  out.rotation.resize(width * width);
  for (std::uint64_t j = 0; j < width; ++j)
    for (std::uint64_t d = 0; d < width; ++d)
      out.rotation[j * width + d] = static_cast<float>(both(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(d)));
  return out;
}

}  // namespace lineage
