#pragma once
// The header of one .safetensors file, parsed as untrusted input.
//
// File layout: 8-byte little-endian u64 N, then N bytes of JSON, then the data section. The JSON
// maps tensor names to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
// data section), plus an optional "__metadata__" object of string values.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dtype.hpp"

namespace lineage {

// Headers larger than this are rejected before any allocation (the reference implementation uses
// the same 100 MB limit; a 100B-parameter MoE shard needs well under 1 MB).
inline constexpr std::uint64_t max_safetensors_header_bytes = 100'000'000;

struct tensor_entry {
  std::string name;
  dtype type = dtype::f32;
  std::vector<std::uint64_t> shape;
  std::uint64_t data_begin = 0;  // relative to the start of the data section
  std::uint64_t data_end = 0;
  [[nodiscard]] std::uint64_t element_count() const noexcept;  // product of shape (checked at parse)
  [[nodiscard]] std::uint64_t byte_length() const noexcept { return data_end - data_begin; }
};

struct safetensors_header {
  std::uint64_t file_size = 0;
  std::uint64_t json_bytes = 0;  // N
  [[nodiscard]] std::uint64_t data_section_offset() const noexcept { return 8 + json_bytes; }
  std::vector<tensor_entry> tensors;  // sorted by data_begin
  std::map<std::string, std::string> metadata;
};

// Validates and parses a header. `json_text` is the N bytes after the length prefix, `file_size`
// the size of the whole file, `file_label` the path used in error messages. Throws input_error
// (one line, naming the file and, where there is one, the tensor) when:
//  - the JSON is malformed, not an object, or has duplicate keys at any level;
//  - an entry lacks dtype/shape/data_offsets, has extra keys, or has values of the wrong type;
//  - the dtype is not one of F64 F32 F16 BF16 F8_E4M3 F8_E5M2 (the message names the dtype);
//  - a shape product overflows 64 bits, or product * dtype size != end - begin;
//  - begin > end, end beyond the data section, or two tensors' byte ranges overlap;
//  - __metadata__ is not an object of strings.
safetensors_header parse_safetensors_header(std::string_view json_text, std::uint64_t file_size,
                                            const std::string& file_label);

// Opens `path`, checks the length prefix (non-zero, at most max_safetensors_header_bytes, within
// the file) and parses the header.
safetensors_header read_safetensors_header(const std::filesystem::path& path);

// As read_safetensors_header, but the data section may be missing or short (a header-only file for
// planning): data_offsets are not checked against the file's length, all else is. file_size is the
// size the complete file would have: the header plus the end of the last tensor's bytes.
safetensors_header read_safetensors_header_only(const std::filesystem::path& path);

// --- strict JSON, shared by the header, index and config readers -------------------------------
// nlohmann::json keeps the last of two equal keys without a word; in an untrusted header that would
// let a file say two things about one tensor. parse_json_strictly builds the DOM itself from SAX
// events and refuses a duplicate key at any depth, nesting deeper than max_json_depth, a NUL
// byte anywhere (nlohmann's lexer would take it for the end of input and ignore what follows), and
// anything after the value but whitespace (writers pad headers with spaces).
inline constexpr std::size_t max_json_depth = 64;

// Words the "duplicate key" error: `object_path` holds the keys (array positions as decimal text)
// from the root to the object that repeats `key`. The result follows "<file>: " in the message.
using duplicate_key_wording =
    std::function<std::string(const std::vector<std::string>& object_path, const std::string& key)>;

// Throws input_error "<file_label>: ..." on invalid JSON or a duplicate key; `wording` may be empty
// for the generic "duplicate key 'k' in 'a' > 'b'".
nlohmann::json parse_json_strictly(std::string_view text, const std::string& file_label,
                                   const duplicate_key_wording& wording = {});

// "an object", "an array", "a string", ...: the kind of a value, for messages.
std::string json_kind(const nlohmann::json& value);

}  // namespace lineage
