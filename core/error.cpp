#include "core/error.hpp"

#include <algorithm>
#include <iostream>

#include "core/display_text.hpp"

namespace lineage {
namespace {
std::string one_line(std::string text) {
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}
}  // namespace

error::error(const std::string& message) : std::runtime_error(one_line(message)) {}

void print_error_line(std::string_view message) { std::cerr << "lineage: error: " << printable(message) << std::endl; }

void print_warning_line(std::string_view message) {
  std::cerr << "lineage: warning: " << printable(message) << std::endl;
}

}  // namespace lineage
