#include "shard/hidden_rotation.hpp"

#include <Eigen/Dense>
#include <Eigen/SVD>

#include <algorithm>
#include <cmath>

#include "shard/kernel.hpp"
#include "shard/unit_team.hpp"
#include "shard/work_block.hpp"

namespace lineage {
namespace {

using matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Rows [first, first + count) of a rows × width block, dimensions [begin, end), transposed:
// (end − begin) × count, so that each dimension's values over those rows are consecutive (tiles of
// 16 × 16 for the caches).
std::vector<float> transposed(const std::vector<float>& values, std::uint64_t first, std::uint64_t count,
                              std::uint64_t width, std::uint64_t begin, std::uint64_t end) {
  constexpr std::uint64_t tile = 16;
  std::vector<float> out((end - begin) * count);
  for (std::uint64_t r0 = 0; r0 < count; r0 += tile)
    for (std::uint64_t d0 = begin; d0 < end; d0 += tile)
      for (std::uint64_t r = r0; r < std::min(count, r0 + tile); ++r)
        for (std::uint64_t d = d0; d < std::min(end, d0 + tile); ++d)
          out[(d - begin) * count + r] = values[(first + r) * width + d];
  return out;
}

// Bᵀ·A over rows [first, first + count): entry (j, d) = Σ_r b[r][j] a[r][d], by the row kernel
// (float products summed in lanes, then in double; the same bits on any rank and instruction set).
// The team's members compute B's dimensions in turn; the lead receives the whole (elsewhere: empty).
matrix cross_products(const std::vector<float>& a, const std::vector<float>& b, std::uint64_t first,
                      std::uint64_t count, std::uint64_t width, const unit_team& team, int lead) {
  const auto share = team_share(team, width, 64);
  const std::uint64_t begin = share.first, end = share.second;
  const std::vector<double> mine = settled_part(team, [&] {
    const std::vector<float> at = transposed(a, first, count, width, 0, width);
    const std::vector<float> bt = transposed(b, first, count, width, begin, end);
    std::vector<double> rows((end - begin) * width);
    dot_product_matrix(bt.data(), end - begin, at.data(), width, count, rows.data());
    return rows;
  });
  const bool leads = team.member() == lead;
  matrix cross(leads ? static_cast<Eigen::Index>(width) : 0, leads ? static_cast<Eigen::Index>(width) : 0);
  team.gather_doubles(mine, {cross.data(), static_cast<std::size_t>(cross.size())}, lead);
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

// The held-out rows and the moments every fit needs: A's sum and squares, B's per dimension. A fit
// of A against B read through a map M is Pearson(x, y·M). For a signed permutation (the identity
// among them), Σ x ∘ (y·M) is one pass over the rows and Σ (y·M)² comes from B's own squares; for an
// orthogonal R, Σ x ∘ (y·R) = ⟨C, R⟩ with C = Bᵀ·A over those rows, Σ y·R = (1ᵀy)·R·1 and R keeps
// B's squares: no pass over the rows per candidate reading.
struct held_out {
  const std::vector<float>&a, &b;
  std::uint64_t first, count, width;
  double n = 0, sum_a = 0, squares_a = 0;
  std::vector<double> sum_b, squares_b;  // per B dimension

  held_out(const std::vector<float>& a_rows, const std::vector<float>& b_rows, std::uint64_t first_row,
           std::uint64_t rows, std::uint64_t columns)
      : a(a_rows), b(b_rows), first(first_row), count(rows), width(columns), sum_b(columns, 0.0),
        squares_b(columns, 0.0) {
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

  // B's dimension order[d] (negated when flagged) read as A's dimension d; empty: B as it is.
  [[nodiscard]] double permuted(const std::vector<std::uint32_t>& order) const {
    std::vector<std::uint32_t> column(width);
    std::vector<double> sign(width, 1.0);
    for (std::uint64_t d = 0; d < width; ++d) {
      column[d] = order.empty() ? static_cast<std::uint32_t>(d) : index_of(order[d]);
      if (!order.empty() && is_negated(order[d])) sign[d] = -1.0;
    }
    double sum_ab = 0, sum_mapped = 0, squares = 0;
    for (std::uint64_t d = 0; d < width; ++d) {
      sum_mapped += sign[d] * sum_b[column[d]];
      squares += squares_b[column[d]];
    }
    for (std::uint64_t r = first; r < first + count; ++r) {
      const float* x = a.data() + r * width;
      const float* y = b.data() + r * width;
      double row = 0;
      for (std::uint64_t d = 0; d < width; ++d) row += sign[d] * static_cast<double>(x[d]) * y[column[d]];
      sum_ab += row;
    }
    return fit(sum_ab, sum_mapped, squares);
  }
  // B through an orthogonal R, with C = Bᵀ·A over the held-out rows.
  [[nodiscard]] double rotated(const matrix& r, const matrix& cross) const {
    const Eigen::Map<const Eigen::VectorXd> sums(sum_b.data(), static_cast<Eigen::Index>(sum_b.size()));
    double squares = 0;
    for (const double s : squares_b) squares += s;
    return fit(cross.cwiseProduct(r).sum(), (sums.transpose() * r).sum(), squares);
  }
};

}  // namespace

hidden_rotation_estimate estimate_hidden_rotation(const std::vector<float>& a, const std::vector<float>& b,
                                                  std::uint64_t rows, std::uint64_t width,
                                                  const std::vector<std::uint32_t>& order) {
  return estimate_hidden_rotation(a, b, rows, width, order, solo_team{}, 0);
}

hidden_rotation_estimate estimate_hidden_rotation(const std::vector<float>& a, const std::vector<float>& b,
                                                  std::uint64_t rows, std::uint64_t width,
                                                  const std::vector<std::uint32_t>& order, const unit_team& team,
                                                  int lead) {
  hidden_rotation_estimate out;
  const std::uint64_t half = rows / 2;
  if (half < 2 || width < 2 || a.size() != rows * width || b.size() != rows * width) return out;
  const held_out judged(a, b, half, half, width);
  out.identity_fit = judged.permuted({});
  if (order.size() == width) out.permutation_fit = judged.permuted(order);
  // The cross products and two width × width SVDs are most of the cost: not spent when their result
  // could not be applied (every member goes by the lead's fits, so all of them take the same turn).
  const std::vector<double> lead_fits =
      share_parts(team, [&] { return std::vector<double>{out.identity_fit, out.permutation_fit}; })
          .at(static_cast<std::size_t>(lead));
  if (!rotation_can_apply(lead_fits.at(0), lead_fits.at(1))) return out;
  const matrix first_half = cross_products(a, b, 0, half, width, team, lead);
  const matrix second_half = cross_products(a, b, half, half, width, team, lead);
  if (team.member() != lead) return out;
  out.rotation_fit = judged.rotated(procrustes(first_half), second_half);
  // The rotation applied is estimated on all compared rows: a second SVD, not spent on a rotation
  // the held-out fit rejects (an unrelated pair: half of its hidden matching's time).
  if (!rotation_applies(out.rotation_fit, out.identity_fit, out.permutation_fit)) return out;
  const matrix both = procrustes(first_half + second_half);
  out.rotation.resize(width * width);
  for (std::uint64_t j = 0; j < width; ++j)
    for (std::uint64_t d = 0; d < width; ++d)
      out.rotation[j * width + d] = static_cast<float>(both(static_cast<Eigen::Index>(j), static_cast<Eigen::Index>(d)));
  return out;
}

}  // namespace lineage
