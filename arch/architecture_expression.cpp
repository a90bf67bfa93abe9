#include "arch/architecture_expression.hpp"

#include <charconv>
#include <stdexcept>

#include <fmt/format.h>

#include "core/error.hpp"

namespace lineage {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_key_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_key_char(char c) { return is_key_start(c) || is_digit(c); }

}  // namespace

row_expression row_expression::parse(std::string_view text) {
  row_expression expression;
  expression.text_ = std::string(text);
  std::size_t at = 0;
  const auto skip_spaces = [&] {
    while (at < text.size() && is_space(text[at])) {
      ++at;
    }
  };
  char pending_op = '*';
  while (true) {
    skip_spaces();
    if (at == text.size()) {
      throw std::invalid_argument(expression.operands_.empty()
                                      ? std::string("empty expression")
                                      : fmt::format("expression '{}' ends with an operator", text));
    }
    operand term;
    term.op = pending_op;
    if (is_digit(text[at])) {
      const std::size_t start = at;
      while (at < text.size() && is_digit(text[at])) {
        ++at;
      }
      const auto [end, status] = std::from_chars(text.data() + start, text.data() + at, term.literal);
      if (status != std::errc{} || end != text.data() + at) {
        throw std::invalid_argument(fmt::format("expression '{}': literal too large", text));
      }
      if (term.literal == 0) {
        throw std::invalid_argument(fmt::format("expression '{}': a literal must be positive", text));
      }
    } else if (is_key_start(text[at])) {
      const std::size_t start = at;
      while (at < text.size() && is_key_char(text[at])) {
        ++at;
      }
      term.key = std::string(text.substr(start, at - start));
    } else {
      throw std::invalid_argument(fmt::format(
          "expression '{}': unexpected '{}' (expected a config key or a positive integer)", text, text[at]));
    }
    expression.operands_.push_back(std::move(term));
    skip_spaces();
    if (at == text.size()) {
      break;
    }
    if (text[at] != '*' && text[at] != '/') {
      throw std::invalid_argument(
          fmt::format("expression '{}': unexpected '{}' (only * and / are operators)", text, text[at]));
    }
    pending_op = text[at];
    ++at;
  }
  return expression;
}

std::vector<std::string> row_expression::keys() const {
  std::vector<std::string> names;
  for (const operand& term : operands_) {
    if (!term.key.empty()) {
      names.push_back(term.key);
    }
  }
  return names;
}

std::int64_t row_expression::evaluate(const key_resolver& value_of, std::string_view context) const {
  std::int64_t value = 1;
  for (const operand& term : operands_) {
    const std::int64_t operand_value = term.key.empty() ? term.literal : value_of(term.key);
    if (term.op == '*') {
      if (__builtin_mul_overflow(value, operand_value, &value)) {
        throw input_error(fmt::format("{}: '{}' overflows", context, text_));
      }
    } else {
      if (value % operand_value != 0) {
        throw input_error(fmt::format("{}: '{}' is not a whole number ({} / {} leaves a remainder)", context,
                                      text_, value, operand_value));
      }
      value /= operand_value;
    }
  }
  return value;
}

}  // namespace lineage
