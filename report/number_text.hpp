#pragma once
// Numbers as report.html and report.md print them. A figure report.json writes as null (a
// non-finite number, or one it writes only when its test was available) prints as "–".
#include <cstdint>
#include <string>

namespace lineage::number_text {

// "0.9987" (digits after the point), "–" for NaN or ±inf.
std::string fixed(double v, int digits = 4);
// A p-value: "8e-300", "0.0174", "0", "–".
std::string pval(double p);
// A layer or expert index, "–" when negative (outside layers, not an expert).
std::string index_text(std::int64_t index);
// The value a chart draws: report.json has no NaN or ±inf (it writes null), so neither is drawn.
double finite_or_nan(double v);

}  // namespace lineage::number_text
