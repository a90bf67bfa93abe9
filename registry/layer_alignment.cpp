#include "registry/layer_alignment.hpp"

#include <cmath>

namespace lineage {

std::vector<std::pair<std::size_t, std::size_t>> monotone_alignment(
    std::size_t rows, std::size_t cols, const std::function<double(std::size_t, std::size_t)>& score) {
  // best[(i, j)]: the largest sum over A's first i layers and B's first j; step: how it was reached
  // (0: skip A's layer, 1: skip B's, 2: pair them).
  const std::size_t width = cols + 1;
  std::vector<double> best((rows + 1) * width, 0.0);
  std::vector<unsigned char> step((rows + 1) * width, 0);
  for (std::size_t i = 1; i <= rows; ++i)
    for (std::size_t j = 1; j <= cols; ++j) {
      double value = best[(i - 1) * width + j];
      unsigned char how = 0;
      if (best[i * width + j - 1] > value) value = best[i * width + j - 1], how = 1;
      const double s = score(i - 1, j - 1);
      if (std::isfinite(s) && s > 0 && best[(i - 1) * width + j - 1] + s > value)
        value = best[(i - 1) * width + j - 1] + s, how = 2;
      best[i * width + j] = value;
      step[i * width + j] = how;
    }
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  for (std::size_t i = rows, j = cols; i > 0 && j > 0;) {
    const unsigned char how = step[i * width + j];
    if (how == 2) pairs.emplace_back(--i, --j);
    else if (how == 1) --j;
    else --i;
  }
  return {pairs.rbegin(), pairs.rend()};
}

}  // namespace lineage
