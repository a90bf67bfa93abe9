#include "hidden_test_support.hpp"

#include <cmath>

namespace lineage::test {

std::vector<float> random_values(std::size_t count, random_stream& stream) {
  std::vector<float> v(count);
  for (float& x : v) x = static_cast<float>(stream.normal());
  return v;
}

std::vector<double> random_orthogonal(std::size_t width, random_stream& stream) {
  std::vector<double> q(width * width);
  for (double& v : q) v = stream.normal();
  for (std::size_t c = 0; c < width; ++c) {
    for (std::size_t p = 0; p < c; ++p) {
      double dot = 0;
      for (std::size_t r = 0; r < width; ++r) dot += q[r * width + c] * q[r * width + p];
      for (std::size_t r = 0; r < width; ++r) q[r * width + c] -= dot * q[r * width + p];
    }
    double norm = 0;
    for (std::size_t r = 0; r < width; ++r) norm += q[r * width + c] * q[r * width + c];
    for (std::size_t r = 0; r < width; ++r) q[r * width + c] /= std::sqrt(norm);
  }
  return q;
}

std::vector<float> rotated_rows(const std::vector<float>& a, std::size_t rows, std::size_t width,
                                const std::vector<double>& q, double noise, random_stream& stream) {
  std::vector<float> b(rows * width);
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < width; ++j) {
      double v = 0;
      for (std::size_t d = 0; d < width; ++d) v += a[r * width + d] * q[j * width + d];
      b[r * width + j] = static_cast<float>(v + noise * stream.normal());
    }
  return b;
}

hidden_match_request embedding_request(const element_location& a, const element_location& b, std::uint64_t rows_a,
                                       std::uint64_t rows_b, std::uint64_t hidden, std::uint64_t hidden_b) {
  hidden_match_request request;
  request.role = "embed_tokens.weight";
  request.a = a;
  request.b = b;
  request.rows_a = rows_a;
  request.rows_b = rows_b;
  request.hidden = hidden;
  request.hidden_b = hidden_b;
  return request;
}

}  // namespace lineage::test
