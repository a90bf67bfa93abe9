#include "core/byte_unicode.hpp"


namespace lineage {
namespace {

constexpr bool stands_for_itself(unsigned byte) noexcept {
  return (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE && byte <= 0xFF);
}

}  // namespace

const std::array<char32_t, 256>& byte_level_code_points() noexcept {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> points{};
    char32_t next_substitute = 0x100;
    for (unsigned byte = 0; byte < 256; ++byte)
      points[byte] = stands_for_itself(byte) ? static_cast<char32_t>(byte) : next_substitute++;
    return points;
  }();
  return table;
}

std::optional<std::uint8_t> byte_of_code_point(char32_t code_point) noexcept {
  // Every code point of the table is below U+0100 + 68: the inverse is a small array.
  constexpr std::size_t image_end = 0x100 + 68;
  static const std::array<std::int16_t, image_end> inverse = [] {
    std::array<std::int16_t, image_end> bytes;
    bytes.fill(-1);
    for (unsigned byte = 0; byte < 256; ++byte)
      bytes[byte_level_code_points()[byte]] = static_cast<std::int16_t>(byte);
    return bytes;
  }();
  if (code_point >= image_end || inverse[code_point] < 0) return std::nullopt;
  return static_cast<std::uint8_t>(inverse[code_point]);
}

const std::array<std::uint8_t, 256>& byte_level_alphabet_order() noexcept {
  static const std::array<std::uint8_t, 256> order = [] {
    std::array<std::uint8_t, 256> bytes{};
    std::size_t next = 0;
    for (unsigned byte = 0; byte < 256; ++byte)
      if (stands_for_itself(byte)) bytes[next++] = static_cast<std::uint8_t>(byte);
    for (unsigned byte = 0; byte < 256; ++byte)
      if (!stands_for_itself(byte)) bytes[next++] = static_cast<std::uint8_t>(byte);
    return bytes;
  }();
  return order;
}

std::string byte_level_spelling(std::string_view bytes) {
  std::string text;
  for (const char byte : bytes) append_utf8(text, byte_level_code_points()[static_cast<std::uint8_t>(byte)]);
  return text;
}

void append_utf8(std::string& out, char32_t code_point) {
  const auto put = [&out](std::uint32_t value) { out.push_back(static_cast<char>(value)); };
  const auto c = static_cast<std::uint32_t>(code_point);
  if (c < 0x80) {
    put(c);
  } else if (c < 0x800) {
    put(0xC0 | (c >> 6));
    put(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    put(0xE0 | (c >> 12));
    put(0x80 | ((c >> 6) & 0x3F));
    put(0x80 | (c & 0x3F));
  } else {
    put(0xF0 | (c >> 18));
    put(0x80 | ((c >> 12) & 0x3F));
    put(0x80 | ((c >> 6) & 0x3F));
    put(0x80 | (c & 0x3F));
  }
}

std::optional<std::vector<char32_t>> decode_utf8(std::string_view text) {
  std::vector<char32_t> points;
  points.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<std::uint8_t>(text[i]);
    const std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return std::nullopt;
    std::uint32_t value = length == 1 ? lead : lead & (0x7Fu >> length);
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<std::uint8_t>(text[i + k]);
      if ((next & 0xC0) != 0x80) return std::nullopt;
      value = (value << 6) | (next & 0x3Fu);
    }
    constexpr std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (value < smallest[length] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return std::nullopt;
    points.push_back(static_cast<char32_t>(value));
    i += length;
  }
  return points;
}

}  // namespace lineage
