#include "shard/hidden_rotation.hpp"

#include <Eigen/Dense>
#include <Eigen/SVD>

#include <algorithm>
#include <cmath>

#include "shard/kernel.hpp"
#include "shard/work_block.hpp"

namespace lineage {
namespace {

using matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Rows [first, first + count) of a rows × width block, transposed: width × count, so that each
// dimension's values over those rows are consecutive (tiles of 16 × 16 for the caches).
std::vector<float> transposed(const std::vector<float>& values, std::uint64_t first, std::uint64_t count,
                              std::uint64_t width) {
  constexpr std::uint64_t tile = 16;
  std::vector<float> out(width * count);
  for (std::uint64_t r0 = 0; r0 < count; r0 += tile)
    for (std::uint64_t d0 = 0; d0 < width; d0 += tile)
      for (std::uint64_t r = r0; r < std::min(count, r0 + tile); ++r)
        for (std::uint64_t d = d0; d < std::min(width, d0 + tile); ++d)
          out[d * count + r] = values[(first + r) * width + d];
  return out;
}

// Bᵀ·A over rows [first, first + count): entry (j, d) = Σ_r b[r][j] a[r][d], by the row kernel
// (float products summed in lanes, then in double; the same bits on any rank and instruction set).
matrix cross_products(const std::vector<float>& a, const std::vector<float>& b, std::uint64_t first,
                      std::uint64_t count, std::uint64_t width) {
  const std::vector<float> at = transposed(a, first, count, width), bt = transposed(b, first, count, width);
  matrix cross(static_cast<Eigen::Index>(width), static_cast<Eigen::Index>(width));
  dot_product_matrix(bt.data(), width, at.data(), width, count, cross.data());
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

// The moments of the held-out rows that every fit needs: A's sum and squares, B's per dimension,
// and C = Bᵀ·A over those rows. A fit of A against B read through a map M is then
// Pearson(x, y·M) with Σ x ∘ (y·M) = ⟨C, M⟩, Σ y·M = (1ᵀy)·M·1 and, for M orthogonal or a signed
// permutation, Σ (y·M)² from B's own squares: no pass over the rows per candidate reading.
struct held_out {
  double n = 0, sum_a = 0, squares_a = 0;
  std::vector<double> sum_b, squares_b;  // per B dimension
  const matrix* cross = nullptr;

  held_out(const std::vector<float>& a, const std::vector<float>& b, std::uint64_t first, std::uint64_t count,
           std::uint64_t width, const matrix& c)
      : sum_b(width, 0.0), squares_b(width, 0.0), cross(&c) {
    n = static_cast<double>(count * width);
    for (std::uint64_t r = first; r < first + count; ++r)
      for (std::uint64_t d = 0; d < width; ++d) {
        const double x = a[r * width + d], y = b[r * width + d];
        sum_a += x;
        squares_a += x * x;
        sum_b[d] += y;
        squares_b[d] += y * y;
      }
  }

  [[nodiscard]] double fit(double sum_ab, double sum_mapped, double squares_mapped) const {
    const double cxy = sum_ab - sum_a * sum_mapped / n, cxx = squares_a - sum_a * sum_a / n;
    const double cyy = squares_mapped - sum_mapped * sum_mapped / n;
    return cxx > 0 && cyy > 0 ? cxy / std::sqrt(cxx * cyy) : 0.0;
  }
  [[nodiscard]] double squares_of_b() const {
    double total = 0;
    for (const double s : squares_b) total += s;
    return total;
  }

  // B as it is (M = I).
  [[nodiscard]] double identity() const {
    double sum_ab = 0, sum_mapped = 0;
    for (std::size_t d = 0; d < sum_b.size(); ++d) {
      sum_ab += (*cross)(static_cast<Eigen::Index>(d), static_cast<Eigen::Index>(d));
      sum_mapped += sum_b[d];
    }
    return fit(sum_ab, sum_mapped, squares_of_b());
  }
  // B through an orthogonal R.
  [[nodiscard]] double rotated(const matrix& r) const {
    const Eigen::Map<const Eigen::VectorXd> sums(sum_b.data(), static_cast<Eigen::Index>(sum_b.size()));
    return fit(cross->cwiseProduct(r).sum(), (sums.transpose() * r).sum(), squares_of_b());
  }
  // B's dimension order[d] (negated when flagged) read as A's dimension d.
  [[nodiscard]] double permuted(const std::vector<std::uint32_t>& order) const {
    double sum_ab = 0, sum_mapped = 0, squares = 0;
    for (std::size_t d = 0; d < order.size(); ++d) {
      const auto j = index_of(order[d]);
      const double sign = is_negated(order[d]) ? -1.0 : 1.0;
      sum_ab += sign * (*cross)(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(d));
      sum_mapped += sign * sum_b[j];
      squares += squares_b[j];
    }
    return fit(sum_ab, sum_mapped, squares);
  }
};

}  // namespace

hidden_rotation_estimate estimate_hidden_rotation(const std::vector<float>& a, const std::vector<float>& b,
                                                  std::uint64_t rows, std::uint64_t width,
                                                  const std::vector<std::uint32_t>& order) {
  hidden_rotation_estimate out;
  const std::uint64_t half = rows / 2;
  if (half < 2 || width < 2 || a.size() != rows * width || b.size() != rows * width) return out;
  const matrix second_half = cross_products(a, b, half, half, width);
  const held_out judged(a, b, half, half, width, second_half);
  out.identity_fit = judged.identity();
  if (order.size() == width) out.permutation_fit = judged.permuted(order);
  // Two width × width SVDs are most of the cost: not spent when their result could not be applied.
  if (!rotation_can_apply(out.identity_fit, out.permutation_fit)) return out;
  const matrix first_half = cross_products(a, b, 0, half, width);
  out.rotation_fit = judged.rotated(procrustes(first_half));
  // The rotation applied is estimated on all compared rows.
  const matrix both = procrustes(first_half + second_half);
  out.rotation.resize(width * width);
  for (std::uint64_t j = 0; j < width; ++j)
    for (std::uint64_t d = 0; d < width; ++d)
      out.rotation[j * width + d] = static_cast<float>(both(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(d)));
  return out;
}

}  // namespace lineage
