#include "shard/fingerprint.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "shard/block_compute.hpp"
#include "shard/matching_vectors.hpp"

namespace lineage {
namespace {

using row_block = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Rows decoded per read: about 4 MiB of floats.
constexpr std::uint64_t block_floats = std::uint64_t{1} << 20;

// Walks the rows of a [rows, row_length] tensor in blocks, decoded to FP32.
class row_blocks {
 public:
  row_blocks(block_reader& reader, int side, const fingerprint_side& tensor)
      : reader_(reader), side_(side), tensor_(tensor) {
    rows_ = tensor.shape.size() == 2 ? tensor.shape[0] : 1;
    length_ = tensor.shape.back();
    step_ = std::max<std::uint64_t>(1, block_floats / std::max<std::uint64_t>(1, length_));
  }

  [[nodiscard]] std::uint64_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::uint64_t length() const noexcept { return length_; }

  // Calls visit(block) for each block of rows in order; false when a value is not finite.
  template <class Visit>
  bool each(Visit&& visit) {
    row_block block;
    for (std::uint64_t begin = 0; begin < rows_; begin += step_) {
      const std::uint64_t count = std::min(step_, rows_ - begin);
      block.resize(static_cast<Eigen::Index>(count), static_cast<Eigen::Index>(length_));
      const auto rows = index_range(begin, count);
      if (!reader_.read_rows(side_, tensor_.first, length_, rows, {}, block.data())) return false;
      visit(block);
    }
    return true;
  }

 private:
  block_reader& reader_;
  int side_;
  const fingerprint_side& tensor_;
  std::uint64_t rows_ = 0, length_ = 0, step_ = 1;
};

// An orthonormal basis of the columns of `m` (thin Householder QR, FP64).
Eigen::MatrixXd orthonormal(const Eigen::MatrixXd& m) {
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(m);
  return qr.householderQ() * Eigen::MatrixXd::Identity(m.rows(), m.cols());
}

// Whether the spectrum of a [rows, length] matrix is computed exactly: its smaller Gram matrix is
// small, and, when that is W Wᵀ (fewer rows than columns), the rows fit in memory at once.
constexpr std::uint64_t max_held_floats = std::uint64_t{1} << 25;
bool exact_spectrum(std::uint64_t rows, std::uint64_t length) {
  if (std::min(rows, length) > fingerprint_exact_width) return false;
  return length <= rows || rows * length <= max_held_floats;
}

// The singular values of the matrix `blocks` walks, descending: eigenvalues of the Gram matrix of
// its smaller side, accumulated in FP64.
std::vector<double> exact_singular_values(row_blocks& blocks) {
  Eigen::MatrixXd gram;
  if (blocks.length() <= blocks.rows()) {  // WᵀW, block by block
    const auto size = static_cast<Eigen::Index>(blocks.length());
    gram = Eigen::MatrixXd::Zero(size, size);
    blocks.each([&](const row_block& block) {
      const Eigen::MatrixXd w = block.cast<double>();
      gram.noalias() += w.transpose() * w;
    });
  } else {  // W Wᵀ of the few rows, held at once
    Eigen::MatrixXd w(static_cast<Eigen::Index>(blocks.rows()), static_cast<Eigen::Index>(blocks.length()));
    Eigen::Index row = 0;
    blocks.each([&](const row_block& block) {
      w.middleRows(row, block.rows()) = block.cast<double>();
      row += block.rows();
    });
    gram = w * w.transpose();
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(gram, Eigen::EigenvaluesOnly);
  std::vector<double> values;
  for (Eigen::Index k = gram.rows() - 1; k >= 0; --k)
    values.push_back(std::sqrt(std::max(0.0, solver.eigenvalues()(k))));
  return values;
}

// The leading singular values by subspace iteration on WᵀW (Ritz values, descending).
std::vector<double> iterated_singular_values(row_blocks& blocks, random_stream& stream) {
  const auto length = static_cast<Eigen::Index>(blocks.length());
  const auto width = static_cast<Eigen::Index>(
      std::min<std::uint64_t>({fingerprint_basis, blocks.rows(), blocks.length()}));
  Eigen::MatrixXd basis(length, width);
  for (Eigen::Index j = 0; j < width; ++j)
    for (Eigen::Index i = 0; i < length; ++i) basis(i, j) = stream.normal();
  basis = orthonormal(basis);
  for (std::size_t pass = 0; pass < fingerprint_passes; ++pass) {
    const Eigen::MatrixXf z = basis.cast<float>();
    Eigen::MatrixXd next = Eigen::MatrixXd::Zero(length, width);
    blocks.each([&](const row_block& block) {
      const Eigen::MatrixXf y = block * z;
      next.noalias() += (block.transpose() * y).cast<double>();
    });
    basis = orthonormal(next);
  }
  // σ² are the eigenvalues of (W Z)ᵀ(W Z).
  const Eigen::MatrixXf z = basis.cast<float>();
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(width, width);
  blocks.each([&](const row_block& block) {
    const Eigen::MatrixXd y = (block * z).cast<double>();
    gram.noalias() += y.transpose() * y;
  });
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(gram, Eigen::EigenvaluesOnly);
  std::vector<double> values;
  for (Eigen::Index k = width - 1; k >= 0; --k) values.push_back(std::sqrt(std::max(0.0, solver.eigenvalues()(k))));
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
    total += exact_spectrum(rows, length) ? elements * std::min(rows, length)
                                          : elements * (fingerprint_passes + 1) * fingerprint_basis * 4;
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
  f.finite = blocks.each([&](const row_block& block) {
    for (Eigen::Index r = 0; r < block.rows(); ++r) {
      const auto row = block.row(r).cast<double>();
      sum += row.sum();
      squares += row.squaredNorm();
    }
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
