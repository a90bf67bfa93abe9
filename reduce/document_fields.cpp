#include "reduce/document_fields.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace lineage::document {

const json& at(const json& j, const char* key) {
  static const json null_value;
  if (!j.is_object()) return null_value;
  const auto it = j.find(key);
  return it == j.end() ? null_value : *it;
}

double num(const json& j) { return j.is_number() ? j.get<double>() : std::numeric_limits<double>::quiet_NaN(); }
double num(const json& j, const char* key) { return num(at(j, key)); }

std::string str(const json& j, const char* key) {
  const json& v = at(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

bool flag(const json& j, const char* key) {
  const json& v = at(j, key);
  return v.is_boolean() && v.get<bool>();
}

std::string fixed(double v, int digits) { return std::isfinite(v) ? fmt::format("{:.{}f}", v, digits) : "–"; }

std::string pval(double p) {
  if (!std::isfinite(p)) return "–";
  if (p == 0) return "0";
  return fmt::format("{:.3g}", p);
}

std::string integer_text(const json& j) { return j.is_number_integer() ? std::to_string(j.get<long long>()) : "–"; }

}  // namespace lineage::document
