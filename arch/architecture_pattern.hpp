#pragma once
// A tensor-name pattern of an architecture rule: dot-separated components, each literal text or a
// placeholder ({layer}, {expert}) that stands for one component of decimal digits. Names are matched
// component by component, so dots are always literal and no regex engine is involved.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lineage {

class name_pattern {
 public:
  // What the placeholders of a matching name held (-1 where the pattern has no such placeholder).
  struct captures {
    int layer = -1;
    int expert = -1;
  };

  // Throws std::invalid_argument with the reason when `text` is not a valid pattern: empty
  // components, whitespace, braces outside a whole-component placeholder, an unknown or repeated
  // placeholder.
  static name_pattern parse(std::string_view text);

  // The placeholder values when `name` matches, else nothing. A placeholder component whose digits
  // do not fit an int does not match (the name then falls through to later rules or the fallback).
  [[nodiscard]] std::optional<captures> match(std::string_view name) const noexcept;

  [[nodiscard]] const std::string& text() const noexcept { return text_; }

  friend bool operator==(const name_pattern& a, const name_pattern& b) { return a.text_ == b.text_; }

 private:
  enum class slot : unsigned char { literal, layer, expert };
  struct component {
    slot kind = slot::literal;
    std::string literal;  // the text when kind == literal
  };
  std::string text_;
  std::vector<component> components_;
};

// The component of a dotted name that is a decimal index, as an int; nothing when `component` has a
// non-digit or does not fit. Shared by the patterns and the generic fallback so both read layer
// numbers the same way.
std::optional<int> parse_index(std::string_view component) noexcept;

}  // namespace lineage
