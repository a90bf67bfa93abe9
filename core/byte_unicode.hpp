#pragma once
// The GPT-2 byte <-> unicode table of byte-level BPE, and the UTF-8 coding it needs. Byte-level
// tokenizers (GPT-2, Llama 3, Qwen, DeepSeek) spell every byte as one printable code point, so a
// vocabulary entry is text: the space 0x20 is 'Ġ' (U+0120), the newline 0x0A is 'Ċ' (U+010A).
// Shared by the tokenizer reader (tokenizer/) and the tokenizer generator (synth/).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lineage {

// bytes_to_unicode() of GPT-2: the printable bytes '!'..'~', '¡'..'¬', '®'..'ÿ' stand for
// themselves; the other 68 bytes, in increasing order, become U+0100, U+0101, ...
const std::array<char32_t, 256>& byte_level_code_points() noexcept;

// The byte a code point of the table stands for; nullopt for code points outside the table.
std::optional<std::uint8_t> byte_of_code_point(char32_t code_point) noexcept;

// The 256 bytes in the order byte-level BPE vocabularies list them (ids 0..255 of GPT-2): the
// printable bytes first, then the others.
const std::array<std::uint8_t, 256>& byte_level_alphabet_order() noexcept;

// The byte-level spelling of `bytes`: each byte as its code point, UTF-8 encoded.
std::string byte_level_spelling(std::string_view bytes);

// Appends the UTF-8 encoding of `code_point` to `out`.
void append_utf8(std::string& out, char32_t code_point);

// The code points of UTF-8 `text`; nullopt when it is not valid UTF-8 (overlong forms,
// surrogates and code points above U+10FFFF included).
std::optional<std::vector<char32_t>> decode_utf8(std::string_view text);

}  // namespace lineage
