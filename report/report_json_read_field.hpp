#pragma once
// One value of an untrusted JSON document (report.json's, as report.h5 keeps it), read with its
// type and range checked. A field carries its key path, so every failure is one input_error that
// names the document and the key: "out/report.h5: /report_json: tensors[3].null.cosine.mean:
// expected a number or null, found a string".
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

namespace lineage {

class json_field {
 public:
  // The whole document. `label` names it in errors; the document and the label must outlive
  // every field read from it.
  json_field(const nlohmann::json& document, const std::string& label);

  // The member `key` of an object (missing: an error), the element `index` of an array.
  [[nodiscard]] json_field operator[](std::string_view key) const;
  [[nodiscard]] json_field operator[](std::size_t index) const;
  // Whether this is an object with the member `key` (an error when it is not an object).
  [[nodiscard]] bool has(std::string_view key) const;
  // The keys of an object, in the document's (sorted) order.
  [[nodiscard]] std::vector<std::string> keys() const;
  [[nodiscard]] bool is_null() const noexcept { return value_->is_null(); }
  [[nodiscard]] const nlohmann::json& value() const noexcept { return *value_; }

  [[nodiscard]] double number() const;  // a number; null is NaN (report.json writes NaN as null)
  [[nodiscard]] std::string text() const;
  [[nodiscard]] bool flag() const;
  [[nodiscard]] std::size_t size() const;  // of an array
  // An integer that fits T (a negative number is an error for an unsigned T, never a wrap).
  template <class T>
  [[nodiscard]] T integer() const {
    static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
    if constexpr (std::is_unsigned_v<T>)
      return static_cast<T>(unsigned_at_most(std::numeric_limits<T>::max()));
    else
      return static_cast<T>(signed_within(std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
  }
  // A non-negative integer no larger than `limit` (a count that sizes an allocation).
  [[nodiscard]] std::uint64_t unsigned_at_most(std::uint64_t limit) const;
  // An index of the model where −1 means none: null is −1, else a non-negative int.
  [[nodiscard]] int optional_index() const;

  // Arrays of one kind of element.
  [[nodiscard]] std::vector<double> numbers() const;
  [[nodiscard]] std::vector<std::string> texts() const;
  template <class T>
  [[nodiscard]] std::vector<T> integers() const {
    std::vector<T> out(size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = (*this)[i].template integer<T>();
    return out;
  }

  // "<label>: <path>: <what>" as an input_error.
  [[noreturn]] void fail(std::string_view what) const;

 private:
  json_field(const nlohmann::json& value, const std::string& label, std::string path);
  [[nodiscard]] std::int64_t signed_within(std::int64_t low, std::int64_t high) const;
  // "expected <what>, found <what this is>".
  [[noreturn]] void expected(std::string_view what) const;

  const nlohmann::json* value_;
  const std::string* label_;
  std::string path_;  // "" for the document itself
};

}  // namespace lineage
