#pragma once
// Reading fields of a report document (report.json's JSON) for the renderings, where any field may
// be absent or null (report.json writes non-finite numbers as null) and a rendering shows "–".
#include <string>

#include <nlohmann/json.hpp>

namespace lineage::document {

using json = nlohmann::json;

// The member `key` of an object, or null.
const json& at(const json& j, const char* key);
// A number, NaN when absent or not a number.
double num(const json& j, const char* key);
double num(const json& j);
// A string, "" when absent or not a string.
std::string str(const json& j, const char* key);
// A boolean, false when absent.
bool flag(const json& j, const char* key);

// "0.9987" (digits after the point), "–" for NaN.
std::string fixed(double v, int digits = 4);
// A p-value: "8e-300", "0.0174", "0", "–".
std::string pval(double p);
// An integer field as text, "–" when absent or null (e.g. the layer of a global tensor).
std::string integer_text(const json& j);

}  // namespace lineage::document
