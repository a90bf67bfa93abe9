#include "arch/architecture_pattern.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

namespace lineage {

std::optional<int> parse_index(std::string_view component) noexcept {
  if (component.empty() ||
      !std::all_of(component.begin(), component.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int value = 0;
  const auto [end, status] = std::from_chars(component.data(), component.data() + component.size(), value);
  if (status != std::errc{} || end != component.data() + component.size()) {
    return std::nullopt;
  }
  return value;
}

name_pattern name_pattern::parse(std::string_view text) {
  if (text.empty()) {
    throw std::invalid_argument("empty pattern");
  }
  name_pattern pattern;
  pattern.text_ = std::string(text);
  bool seen_layer = false;
  bool seen_expert = false;
  std::size_t begin = 0;
  while (true) {
    const std::size_t dot = text.find('.', begin);
    const std::string_view piece = text.substr(begin, dot == std::string_view::npos ? std::string_view::npos : dot - begin);
    if (piece.empty()) {
      throw std::invalid_argument(fmt::format("pattern '{}' has an empty component (stray dot)", text));
    }
    if (std::any_of(piece.begin(), piece.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; })) {
      throw std::invalid_argument(fmt::format("pattern '{}' contains whitespace", text));
    }
    component part;
    if (piece == "{layer}" || piece == "{expert}") {
      const bool is_layer = piece == "{layer}";
      bool& seen = is_layer ? seen_layer : seen_expert;
      if (seen) {
        throw std::invalid_argument(fmt::format("pattern '{}' repeats placeholder {}", text, piece));
      }
      seen = true;
      part.kind = is_layer ? slot::layer : slot::expert;
    } else if (piece.find_first_of("{}") != std::string_view::npos) {
      // Either a misspelt placeholder or one glued to other text ("h{layer}"); both would silently
      // never match if we took them as literal text.
      throw std::invalid_argument(fmt::format(
          "pattern '{}': bad placeholder in component '{}' (placeholders are {{layer}} and {{expert}}, "
          "each a whole dot-separated component)",
          text, piece));
    } else {
      part.literal = std::string(piece);
    }
    pattern.components_.push_back(std::move(part));
    if (dot == std::string_view::npos) {
      break;
    }
    begin = dot + 1;
  }
  return pattern;
}

std::optional<name_pattern::captures> name_pattern::match(std::string_view name) const noexcept {
  captures found;
  std::size_t begin = 0;
  for (std::size_t index = 0; index < components_.size(); ++index) {
    if (begin > name.size()) {
      return std::nullopt;  // the name ran out of components
    }
    const std::size_t dot = name.find('.', begin);
    const std::size_t end = dot == std::string_view::npos ? name.size() : dot;
    const std::string_view piece = name.substr(begin, end - begin);
    const component& part = components_[index];
    if (part.kind == slot::literal) {
      if (piece != part.literal) {
        return std::nullopt;
      }
    } else {
      const std::optional<int> value = parse_index(piece);
      if (!value) {
        return std::nullopt;
      }
      (part.kind == slot::layer ? found.layer : found.expert) = *value;
    }
    begin = end + 1;  // past the dot; == name.size() + 1 once the name is used up
  }
  if (begin != name.size() + 1) {
    return std::nullopt;  // the name has more components than the pattern
  }
  return found;
}

}  // namespace lineage
