#include "tokenizer/tokenizer_text.hpp"

#include <fmt/format.h>

namespace lineage {

std::string shown_piece(std::string_view piece) {
  constexpr std::size_t longest = 40;
  std::size_t end = piece.size();
  if (end > longest) {
    end = longest;
    while (end > 0 && (static_cast<unsigned char>(piece[end]) & 0xC0) == 0x80) --end;  // continuation byte
  }
  std::string text = "'";
  for (std::size_t i = 0; i < end; ++i) {
    const auto byte = static_cast<unsigned char>(piece[i]);
    if (byte < 0x20 || byte == 0x7F)
      text += fmt::format("\\x{:02X}", byte);
    else
      text.push_back(piece[i]);
  }
  return text + (end < piece.size() ? "'..." : "'");
}

}  // namespace lineage
