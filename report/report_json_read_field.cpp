#include "report/report_json_read_field.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/error.hpp"

namespace lineage {
namespace {

using nlohmann::json;

// What a value is, for "found …": numbers as themselves (a wrong number is easier to find by its value).
std::string kind_of(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return value.dump();
    default: return "a value of no JSON type";
  }
}

// A key as a path step: ".name" for plain names, ["…"] (JSON-quoted) for any other.
std::string key_step(std::string_view key) {
  const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (plain) return "." + std::string(key);
  return "[" + json(key).dump(-1, ' ', false, json::error_handler_t::replace) + "]";
}

// A parsed document holds non-negative integers as unsigned, a built one may hold them signed.
bool non_negative_integer(const json& value) {
  return value.is_number_unsigned() || (value.is_number_integer() && value.get<std::int64_t>() >= 0);
}

}  // namespace

json_field::json_field(const json& document, const std::string& label) : value_(&document), label_(&label) {}

json_field::json_field(const json& value, const std::string& label, std::string path)
    : value_(&value), label_(&label), path_(std::move(path)) {}

void json_field::fail(std::string_view what) const {
  if (path_.empty()) throw input_error(fmt::format("{}: {}", *label_, what));
  throw input_error(fmt::format("{}: {}: {}", *label_, path_, what));
}

void json_field::expected(std::string_view what) const {
  fail(fmt::format("expected {}, found {}", what, kind_of(*value_)));
}

json_field json_field::operator[](std::string_view key) const {
  if (!value_->is_object()) expected("an object");
  std::string step = key_step(key);
  std::string path = path_.empty() && step.front() == '.' ? step.substr(1) : path_ + step;
  const auto found = value_->find(key);
  if (found == value_->end()) json_field(*value_, *label_, std::move(path)).fail("missing");
  return {*found, *label_, std::move(path)};
}

json_field json_field::operator[](std::size_t index) const {
  if (!value_->is_array()) expected("an array");
  std::string path = fmt::format("{}[{}]", path_, index);
  if (index >= value_->size())
    json_field(*value_, *label_, std::move(path)).fail(fmt::format("missing (the array has {})", value_->size()));
  return {(*value_)[index], *label_, std::move(path)};
}

bool json_field::has(std::string_view key) const {
  if (!value_->is_object()) expected("an object");
  return value_->contains(key);
}

std::vector<std::string> json_field::keys() const {
  if (!value_->is_object()) expected("an object");
  std::vector<std::string> out;
  for (const auto& [key, value] : value_->items()) out.push_back(key);
  return out;
}

double json_field::number() const {
  if (value_->is_null()) return NAN;
  if (!value_->is_number()) expected("a number or null");
  return value_->get<double>();
}

std::string json_field::text() const {
  if (!value_->is_string()) expected("a string");
  return value_->get<std::string>();
}

bool json_field::flag() const {
  if (!value_->is_boolean()) expected("true or false");
  return value_->get<bool>();
}

std::size_t json_field::size() const {
  if (!value_->is_array()) expected("an array");
  return value_->size();
}

std::uint64_t json_field::unsigned_at_most(std::uint64_t limit) const {
  if (!non_negative_integer(*value_)) expected("a non-negative integer");
  const auto value = value_->get<std::uint64_t>();
  if (value > limit) fail(fmt::format("{} is out of range (at most {})", value, limit));
  return value;
}

std::int64_t json_field::signed_within(std::int64_t low, std::int64_t high) const {
  if (value_->is_number_unsigned()) {
    const auto value = value_->get<std::uint64_t>();
    if (value > static_cast<std::uint64_t>(high)) fail(fmt::format("{} is out of range (at most {})", value, high));
    return static_cast<std::int64_t>(value);
  }
  if (!value_->is_number_integer()) expected("an integer");
  const auto value = value_->get<std::int64_t>();
  if (value < low || value > high) fail(fmt::format("{} is out of range ({} to {})", value, low, high));
  return value;
}

int json_field::optional_index() const {
  if (value_->is_null()) return -1;
  if (!non_negative_integer(*value_)) expected("a non-negative integer or null");
  return static_cast<int>(unsigned_at_most(static_cast<std::uint64_t>(std::numeric_limits<int>::max())));
}

std::vector<double> json_field::numbers() const {
  std::vector<double> out(size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = (*this)[i].number();
  return out;
}

std::vector<std::string> json_field::texts() const {
  std::vector<std::string> out(size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = (*this)[i].text();
  return out;
}

}  // namespace lineage
