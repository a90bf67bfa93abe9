#include "shard/cyclic_correlation.hpp"

#include <fftw3.h>

#include <algorithm>
#include <mutex>

#include "core/error.hpp"
#include "shard/kernel.hpp"

namespace lineage {
namespace {

// FFTW's planner is not thread-safe (executing a plan is).
std::mutex& planner_lock() {
  static std::mutex lock;
  return lock;
}

}  // namespace

void cyclic_correlation::fftw_deleter::operator()(void* memory) const noexcept { fftw_free(memory); }

cyclic_correlation::cyclic_correlation(std::size_t n, std::size_t batch)
    : n_(n),
      batch_(std::max<std::size_t>(1, batch)),
      bins_(n / 2 + 1),
      total_(2 * bins_, 0.0),
      squares_(2 * bins_, 0.0) {
  if (n < 2 || n > (1u << 30)) throw internal_error("cyclic correlation: an axis of fewer than two or too many units");
  lines_.reset(fftw_alloc_real(2 * batch_ * n_));
  spectra_.reset(fftw_alloc_real(4 * batch_ * bins_));
  if (!lines_ || !spectra_) throw internal_error("cyclic correlation: out of memory");
  std::fill(lines_.get(), lines_.get() + 2 * batch_ * n_, 0.0);
  const int size = static_cast<int>(n_);
  const std::lock_guard<std::mutex> hold(planner_lock());
  // x's lines, then y's: 2 × batch transforms in one plan.
  forward_ = fftw_plan_many_dft_r2c(1, &size, static_cast<int>(2 * batch_), lines_.get(), nullptr, 1, size,
                                    reinterpret_cast<fftw_complex*>(spectra_.get()), nullptr, 1,
                                    static_cast<int>(bins_), FFTW_ESTIMATE);
  if (forward_ == nullptr) throw internal_error("cyclic correlation: FFTW made no plan");
}

double cyclic_correlation::parseval(std::size_t side) const noexcept {
  // Σ_j x_j² = (1/n) Σ_k |X_k|² over all n bins; the half spectrum counts bins 1 … ⌈n/2⌉ − 1 twice.
  double total = squares_[side];
  for (std::size_t k = 1; k < bins_; ++k) total += (2 * k == n_ ? 1.0 : 2.0) * squares_[2 * k + side];
  return total / static_cast<double>(n_);
}

cyclic_correlation::~cyclic_correlation() {
  const std::lock_guard<std::mutex> hold(planner_lock());
  fftw_destroy_plan(static_cast<fftw_plan>(forward_));
}

void cyclic_correlation::add_batch(std::size_t lines) {
  lines = std::min(lines, batch_);
  if (lines == 0) return;
  fftw_execute(static_cast<fftw_plan>(forward_));
  const auto sums = best_kernel().spectrum_sums;
  for (std::size_t l = 0; l < lines; ++l)
    sums(spectra_.get() + 2 * l * bins_, spectra_.get() + 2 * (batch_ + l) * bins_, bins_, total_.data(),
         squares_.data());
}

std::vector<double> cyclic_correlation::sums() const {
  auto* spectrum = fftw_alloc_complex(bins_);
  double* out = fftw_alloc_real(n_);
  if (spectrum == nullptr || out == nullptr) throw internal_error("cyclic correlation: out of memory");
  for (std::size_t k = 0; k < bins_; ++k) spectrum[k][0] = total_[2 * k], spectrum[k][1] = total_[2 * k + 1];
  fftw_plan inverse = nullptr;
  {
    const std::lock_guard<std::mutex> hold(planner_lock());
    inverse = fftw_plan_dft_c2r_1d(static_cast<int>(n_), spectrum, out, FFTW_ESTIMATE);
  }
  if (inverse == nullptr) throw internal_error("cyclic correlation: FFTW made no plan");
  fftw_execute(inverse);
  std::vector<double> c(out, out + n_);
  for (double& v : c) v /= static_cast<double>(n_);
  {
    const std::lock_guard<std::mutex> hold(planner_lock());
    fftw_destroy_plan(inverse);
  }
  fftw_free(spectrum);
  fftw_free(out);
  return c;
}

}  // namespace lineage
