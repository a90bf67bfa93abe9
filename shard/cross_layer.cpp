#include "shard/cross_layer.hpp"

#include <cmath>

#include "shard/block_compute.hpp"
#include "shard/decode.hpp"

namespace lineage {
namespace {

// One layer's sample, centred on its mean (so the cross products do not cancel for norm weights,
// whose mean is near 1 and spread small).
struct centred_sample {
  std::vector<double> values;
  double mean = 0;
  double centred_squares = 0;
  bool finite = true;
};

centred_sample read_sample(block_reader& reader, int side, const cross_layer_request& request,
                           const element_location& first) {
  centred_sample sample;
  const bool aligned = side == 1;
  const auto& rows = aligned && !request.rows_b.empty() ? request.rows_b : request.sampled_rows;
  const std::vector<std::uint32_t> none;
  std::vector<float> values(static_cast<std::size_t>(request.sample_elements()));
  sample.finite = reader.read_rows(side, first, request.row_length, rows, aligned ? request.columns_b : none,
                                   values.data());
  sample.values.assign(values.begin(), values.end());
  double total = 0;
  for (const double v : sample.values) total += v;
  sample.mean = total / static_cast<double>(sample.values.size());
  for (double& v : sample.values) {
    v -= sample.mean;
    sample.centred_squares += v * v;
  }
  return sample;
}

double dot(const std::vector<double>& x, const std::vector<double>& y) {
  double total = 0;
  for (std::size_t i = 0; i < x.size(); ++i) total += x[i] * y[i];
  return total;
}

}  // namespace

cross_layer_result compute_cross_layer(std::uint32_t index, const cross_layer_request& request,
                                       block_reader& reader) {
  cross_layer_result result;
  result.request = index;
  std::vector<centred_sample> a, b;
  for (const auto& location : request.a) a.push_back(read_sample(reader, 0, request, location));
  for (const auto& location : request.b) b.push_back(read_sample(reader, 1, request, location));
  for (const auto* side : {&a, &b})
    for (const auto& sample : *side)
      if (!sample.finite) {
        result.reason = "non-finite values";
        return result;
      }
  const double n = static_cast<double>(request.sample_elements());
  for (const auto& x : a)
    for (const auto& y : b) {
      const double centred = dot(x.values, y.values);
      const double pearson_denominator = std::sqrt(x.centred_squares * y.centred_squares);
      result.pearson.push_back(pearson_denominator > 0 ? centred / pearson_denominator : NAN);
      // Raw sums from the centred ones: Σxy = Σx'y' + n·x̄·ȳ, Σx² = Σx'² + n·x̄².
      const double raw = centred + n * x.mean * y.mean;
      const double raw_x = x.centred_squares + n * x.mean * x.mean;
      const double raw_y = y.centred_squares + n * y.mean * y.mean;
      const double cosine_denominator = std::sqrt(raw_x * raw_y);
      result.cosine.push_back(cosine_denominator > 0 ? raw / cosine_denominator : NAN);
    }
  result.usable = true;
  return result;
}

}  // namespace lineage
