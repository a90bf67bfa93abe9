#include "shard/fingerprint.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "shard/block_compute.hpp"
#include "shard/kernel.hpp"
#include "shard/matching_vectors.hpp"

namespace lineage {
namespace {

using row_block = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Rows decoded per read: about 4 MiB of floats. The blocks do not depend on whether the rows are
// held, so neither do the sums.
constexpr std::uint64_t block_floats = std::uint64_t{1} << 20;

// Walks the rows of a [rows, row_length] tensor in blocks, decoded to FP32. The first walk decodes;
// when the tensor's floats fit fingerprint_held_floats they are kept, and later walks read them
// instead of decoding the bytes again.
class row_blocks {
 public:
  row_blocks(block_reader& reader, int side, const fingerprint_side& tensor)
      : reader_(reader), side_(side), tensor_(tensor) {
    rows_ = tensor.shape.size() == 2 ? tensor.shape[0] : 1;
    length_ = tensor.shape.back();
    step_ = std::max<std::uint64_t>(1, block_floats / std::max<std::uint64_t>(1, length_));
    hold_ = rows_ * length_ <= fingerprint_held_floats;
  }

  [[nodiscard]] std::uint64_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::uint64_t length() const noexcept { return length_; }
  // Every row, row-major, once a walk has decoded and held them (else null).
  [[nodiscard]] const float* held() const noexcept { return held_.get(); }

  // Calls visit(rows, count) for each block of `count` rows (row-major floats) in order; false when
  // a value is not finite.
  template <class Visit>
  bool each(Visit&& visit) {
    if (held_) {
      for (std::uint64_t begin = 0; begin < rows_; begin += step_)
        visit(held_.get() + begin * length_, std::min(step_, rows_ - begin));
      return true;
    }
    std::unique_ptr<float[]> held;
    if (hold_) held = std::make_unique_for_overwrite<float[]>(rows_ * length_);
    std::vector<float> block(hold_ ? 0 : std::min(step_, rows_) * length_);
    for (std::uint64_t begin = 0; begin < rows_; begin += step_) {
      const std::uint64_t count = std::min(step_, rows_ - begin);
      float* rows = hold_ ? held.get() + begin * length_ : block.data();
      if (!reader_.read_rows(side_, tensor_.first, length_, index_range(begin, count), {}, rows)) return false;
      visit(static_cast<const float*>(rows), count);
    }
    held_ = std::move(held);
    return true;
  }

 private:
  block_reader& reader_;
  int side_;
  const fingerprint_side& tensor_;
  std::uint64_t rows_ = 0, length_ = 0, step_ = 1;
  bool hold_ = false;
  std::unique_ptr<float[]> held_;
};

// Whether the spectrum of a [rows, length] matrix is computed exactly: its smaller Gram matrix is
// small, and, when that is W Wᵀ (fewer rows than columns), the rows fit in memory at once.
constexpr std::uint64_t max_held_floats = std::uint64_t{1} << 25;
static_assert(max_held_floats <= fingerprint_held_floats, "an exact W Wᵀ reads the rows row_blocks holds");
bool exact_spectrum(std::uint64_t rows, std::uint64_t length) {
  if (std::min(rows, length) > fingerprint_exact_width) return false;
  return length <= rows || rows * length <= max_held_floats;
}

// Σv and Σv² of `count` floats in FP64 added to `sum` and `squares`: eight running sums each, in
// a fixed order (one running sum would wait on its own adds). Named sums: an array of sums indexed
// in a loop stayed in memory, and every add waited on a store (the moments took longer than the
// decoding they follow).
void add_moments(const float* values, std::uint64_t count, double& sum, double& squares) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  double q0 = 0, q1 = 0, q2 = 0, q3 = 0, q4 = 0, q5 = 0, q6 = 0, q7 = 0;
  std::uint64_t e = 0;
  const auto add = [](double v, double& s, double& q) { s += v, q += v * v; };
  for (; e + 8 <= count; e += 8) {
    const float* v = values + e;
    add(v[0], s0, q0), add(v[1], s1, q1), add(v[2], s2, q2), add(v[3], s3, q3);
    add(v[4], s4, q4), add(v[5], s5, q5), add(v[6], s6, q6), add(v[7], s7, q7);
  }
  for (; e < count; ++e) add(values[e], s0, q0);
  sum += ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  squares += ((q0 + q1) + (q2 + q3)) + ((q4 + q5) + (q6 + q7));
}

std::vector<double> descending_roots(const Eigen::MatrixXd& symmetric) {
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(symmetric, Eigen::EigenvaluesOnly);
  std::vector<double> values;
  for (Eigen::Index k = symmetric.rows() - 1; k >= 0; --k)
    values.push_back(std::sqrt(std::max(0.0, solver.eigenvalues()(k))));
  return values;
}

// The singular values of the matrix `blocks` walks, descending: eigenvalues of the Gram matrix of
// its smaller side, accumulated in FP64.
std::vector<double> exact_singular_values(row_blocks& blocks) {
  const auto length = static_cast<Eigen::Index>(blocks.length());
  const auto rows_of = [length](const float* rows, std::uint64_t count) {
    return Eigen::Map<const row_block>(rows, static_cast<Eigen::Index>(count), length).cast<double>();
  };
  Eigen::MatrixXd gram;
  if (blocks.length() <= blocks.rows()) {  // WᵀW, block by block
    gram = Eigen::MatrixXd::Zero(length, length);
    blocks.each([&](const float* rows, std::uint64_t count) {
      const Eigen::MatrixXd w = rows_of(rows, count);
      gram.noalias() += w.transpose() * w;
    });
  } else {  // W Wᵀ of the few rows: held by the walk (max_held_floats ≤ fingerprint_held_floats)
    if (!blocks.each([](const float*, std::uint64_t) {}) || blocks.held() == nullptr)
      throw internal_error("fingerprint: the rows of an exact W Wᵀ are not held");
    const auto rows = static_cast<Eigen::Index>(blocks.rows());
    const Eigen::Map<const row_block> w(blocks.held(), rows, length);
    gram = Eigen::MatrixXd::Zero(rows, rows);
    // Columns a chunk at a time in FP64 (a copy of the whole matrix in FP64 would double what the
    // memory budget counts for the unit).
    constexpr Eigen::Index chunk = 4096;
    for (Eigen::Index first = 0; first < length; first += chunk) {
      const Eigen::MatrixXd part = w.middleCols(first, std::min(chunk, length - first)).cast<double>();
      gram.noalias() += part * part.transpose();
    }
  }
  return descending_roots(gram);
}

// The next block of the Krylov basis: WᵀW times the last block (`product`), made orthogonal to the
// basis so far (twice, FP64; the first time with `coefficients`, Bᵀ product, which the projection
// has already computed), and its directions that are left (singular values of the remainder
// above rounding; none once the Krylov space stops growing).
Eigen::MatrixXd next_block(const Eigen::MatrixXd& basis, const Eigen::MatrixXd& product,
                           const Eigen::MatrixXd& coefficients) {
  Eigen::MatrixXd rest = product - basis * coefficients;
  rest -= basis * (basis.transpose() * rest);
  const Eigen::JacobiSVD<Eigen::MatrixXd> svd(rest, Eigen::ComputeThinU);
  const double floor = 1e-9 * std::max(product.norm(), std::numeric_limits<double>::min());
  Eigen::Index keep = 0;
  while (keep < svd.singularValues().size() && svd.singularValues()(keep) > floor) ++keep;
  return svd.matrixU().leftCols(keep);
}

// Bᵀ(WᵀW B) for the Krylov basis B so far, grown by a pass's block of products: the new block's
// column against the basis that has products, and its row (the matrix is symmetric up to rounding,
// so both halves are kept and averaged when its eigenvalues are taken).
void extend_projection(Eigen::MatrixXd& projected, const Eigen::MatrixXd& basis, const Eigen::MatrixXd& products,
                       Eigen::Index added) {
  const Eigen::Index size = products.cols(), before = size - added;
  projected.conservativeResize(size, size);
  projected.rightCols(added) = basis.leftCols(size).transpose() * products.rightCols(added);
  projected.bottomLeftCorner(added, before) = basis.middleCols(before, added).transpose() * products.leftCols(before);
}

// Whether the top singular values stopped moving: every one of them grew by less than
// fingerprint_settled of itself over the last pass (Ritz values of nested Krylov spaces only grow).
bool settled(const std::vector<double>& before, const std::vector<double>& now) {
  const std::size_t top = std::min({before.size(), now.size(), fingerprint_singular_values});
  if (top < std::min(now.size(), fingerprint_singular_values)) return false;
  for (std::size_t k = 0; k < top; ++k)
    if (now[k] - before[k] > fingerprint_settled * now[k]) return false;
  return true;
}

// The leading singular values by block Lanczos on WᵀW (Ritz values, descending): a Krylov basis of
// blocks of eight columns, each block the product of the last with WᵀW (gram_block, one walk over
// the rows) orthogonalised against all before it, for at most fingerprint_passes passes, fewer once
// the top values have settled.
std::vector<double> iterated_singular_values(row_blocks& blocks, random_stream& stream) {
  constexpr Eigen::Index width = kernel_lanes;
  const auto length = static_cast<Eigen::Index>(blocks.length());
  using float_basis = Eigen::Matrix<float, Eigen::Dynamic, width, Eigen::RowMajor>;
  Eigen::MatrixXd start(length, width);
  for (Eigen::Index j = 0; j < width; ++j)
    for (Eigen::Index i = 0; i < length; ++i) start(i, j) = stream.normal();
  Eigen::MatrixXd basis = Eigen::HouseholderQR<Eigen::MatrixXd>(start).householderQ() *
                          Eigen::MatrixXd::Identity(length, width);
  Eigen::MatrixXd products(length, 0), projected(0, 0);
  Eigen::MatrixXd block = basis;
  std::vector<double> values;
  const auto gram = best_kernel().gram_block;
  float_basis q(length, width), z(length, width);
  for (std::size_t pass = 0; pass < fingerprint_passes && block.cols() > 0; ++pass) {
    q.setZero();
    q.leftCols(block.cols()) = block.cast<float>();
    Eigen::MatrixXd product = Eigen::MatrixXd::Zero(length, block.cols());
    blocks.each([&](const float* rows, std::uint64_t count) {
      gram(rows, count, static_cast<std::size_t>(length), q.data(), z.data());
      product += z.leftCols(block.cols()).cast<double>();
    });
    products.conservativeResize(Eigen::NoChange, products.cols() + product.cols());
    products.rightCols(product.cols()) = product;
    extend_projection(projected, basis, products, product.cols());
    std::vector<double> now = descending_roots(0.5 * (projected + projected.transpose()));
    const bool done = pass > 0 && settled(values, now);
    values = std::move(now);
    if (done || pass + 1 == fingerprint_passes) break;
    block = next_block(basis, product, projected.rightCols(product.cols()));
    basis.conservativeResize(Eigen::NoChange, basis.cols() + block.cols());
    basis.rightCols(block.cols()) = block;
  }
  return values;
}

}  // namespace

std::uint64_t fingerprint_request::cost() const noexcept {
  std::uint64_t total = 0;
  for (const auto* side : {&a, &b}) {
    if (side->shape.size() != 2) {
      total += side->shape.empty() ? 0 : side->shape[0];
      continue;
    }
    const std::uint64_t rows = side->shape[0], length = side->shape[1], elements = rows * length;
    // Multiply-adds: the Gram matrix of the smaller side, or two per element, basis column and pass.
    total += exact_spectrum(rows, length) ? elements * std::min(rows, length)
                                          : elements * fingerprint_passes * kernel_lanes * 2;
  }
  return total;
}

tensor_fingerprint fingerprint_tensor(block_reader& reader, int side, const fingerprint_side& tensor,
                                      std::uint64_t seed) {
  if (tensor.shape.empty() || tensor.shape.size() > 2 || tensor.shape.back() == 0)
    throw internal_error(fmt::format("fingerprint of {}: a vector or a matrix expected", tensor.name));
  row_blocks blocks(reader, side, tensor);
  tensor_fingerprint f;
  f.elements = blocks.rows() * blocks.length();
  // Moments in FP64, by rows of FP32 values.
  double sum = 0, squares = 0;
  f.finite = blocks.each([&](const float* rows, std::uint64_t count) {
    add_moments(rows, count * blocks.length(), sum, squares);
  });
  if (!f.finite) return f;
  const double n = static_cast<double>(f.elements);
  f.mean = sum / n;
  f.sd = std::sqrt(std::max(0.0, squares / n - f.mean * f.mean));
  f.frobenius = std::sqrt(squares);
  if (tensor.shape.size() != 2 || f.frobenius == 0) return f;

  // Each side draws its own start: a shared one could make two unrelated estimates err alike.
  random_stream stream(seed, side == 0 ? "fingerprint basis of A" : "fingerprint basis of B", tensor.name);
  const std::vector<double> values = exact_spectrum(blocks.rows(), blocks.length())
                                         ? exact_singular_values(blocks)
                                         : iterated_singular_values(blocks, stream);
  for (std::size_t k = 0; k < std::min(values.size(), fingerprint_singular_values); ++k)
    f.spectrum.push_back(values[k] / f.frobenius);
  return f;
}

fingerprint_result compute_fingerprint(std::uint32_t index, const fingerprint_request& request, block_reader& reader) {
  fingerprint_result result;
  result.request = index;
  result.a = fingerprint_tensor(reader, 0, request.a, request.seed);
  result.b = fingerprint_tensor(reader, 1, request.b, request.seed);
  return result;
}

}  // namespace lineage
