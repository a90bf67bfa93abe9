#include "report/number_text.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace lineage::number_text {

std::string fixed(double v, int digits) { return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "–"; }

std::string pval(double p) {
  if (!std::isfinite(p)) return "–";
  if (p == 0) return "0";
  return fmt::format("{:.3g}", p);
}

std::string index_text(std::int64_t index) { return index < 0 ? "–" : std::to_string(index); }

double finite_or_nan(double v) { return std::isfinite(v) ? v : std::numeric_limits<double>::quiet_NaN(); }

}  // namespace lineage::number_text
