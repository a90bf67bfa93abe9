#include "core/error.hpp"

#include <algorithm>

namespace lineage {
namespace {
std::string one_line(std::string text) {
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}
}  // namespace

error::error(const std::string& message) : std::runtime_error(one_line(message)) {}

}  // namespace lineage
