#pragma once
// Sums of cyclic cross-correlations, every shift at once: for pairs of lines x, y of length n,
//   c[s] = Σ_lines Σ_j x[j] · y[(j + s) mod n],   s = 0 … n − 1,
// computed as Σ_lines conj(F x) · F y in the frequency domain and one inverse transform (FFTW,
// double precision, plans made with FFTW_ESTIMATE so that the same sizes always take the same
// path: the same lines give the same bits on every rank). Lines are filled a batch at a time into
// the object's own buffers (one line after another), then added in the order given.
#include <cstddef>
#include <memory>
#include <vector>

namespace lineage {

class cyclic_correlation {
 public:
  cyclic_correlation(std::size_t n, std::size_t batch);
  ~cyclic_correlation();
  cyclic_correlation(const cyclic_correlation&) = delete;
  cyclic_correlation& operator=(const cyclic_correlation&) = delete;

  [[nodiscard]] std::size_t length() const noexcept { return n_; }
  [[nodiscard]] std::size_t batch() const noexcept { return batch_; }
  // Element j of line l (< batch()) of the current batch, for either side.
  [[nodiscard]] double& x(std::size_t l, std::size_t j) noexcept { return lines_.get()[at(l, j)]; }
  [[nodiscard]] double& y(std::size_t l, std::size_t j) noexcept { return lines_.get()[batch_ * n_ + at(l, j)]; }
  // Transforms the batch's first `lines` line pairs and adds their products (the rest are ignored).
  void add_batch(std::size_t lines);
  // c[0 … n − 1] of every line added so far.
  [[nodiscard]] std::vector<double> sums() const;
  // Σ‖x‖² and Σ‖y‖² over the lines added so far (from their spectra, by Parseval).
  [[nodiscard]] double squares_x() const noexcept { return parseval(0); }
  [[nodiscard]] double squares_y() const noexcept { return parseval(1); }

 private:
  struct fftw_deleter {
    void operator()(void* memory) const noexcept;
  };
  [[nodiscard]] std::size_t at(std::size_t l, std::size_t j) const noexcept { return l * n_ + j; }
  [[nodiscard]] double parseval(std::size_t side) const noexcept;  // 0: x, 1: y

  std::size_t n_, batch_, bins_;
  std::unique_ptr<double, fftw_deleter> lines_;    // 2 × batch lines of n (fftw_malloc: the plans' alignment)
  std::unique_ptr<double, fftw_deleter> spectra_;  // 2 × batch spectra of n / 2 + 1 complex values (re, im)
  std::vector<double> total_;                      // Σ conj(X) · Y, interleaved real and imaginary parts
  std::vector<double> squares_;                    // Σ |X_k|², Σ |Y_k|² by bin, interleaved: only for the tie
                                                   // tolerance (‖A‖‖B‖); kernel_spectra.hpp adds both
  void* forward_ = nullptr;                        // the batched real-to-complex plan
};

}  // namespace lineage
