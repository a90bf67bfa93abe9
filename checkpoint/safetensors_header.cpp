#include "checkpoint/safetensors_header.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "checkpoint/mapped_file.hpp"
#include "core/error.hpp"

namespace lineage {
namespace {

using json = nlohmann::json;

// --- strict JSON -------------------------------------------------------------------------------

// Builds the DOM from SAX events, refusing what json::parse would let through silently.
// Containers are filled in place: the stack holds the open containers, and only the last element
// of an array can be open, so appending never moves a container that is still on the stack.
class strict_dom_builder {
 public:
  explicit strict_dom_builder(json& root) : root_(root) {}

  bool null() { return add(json(nullptr)) != nullptr; }
  bool boolean(bool value) { return add(json(value)) != nullptr; }
  bool number_integer(json::number_integer_t value) { return add(json(value)) != nullptr; }
  bool number_unsigned(json::number_unsigned_t value) { return add(json(value)) != nullptr; }
  bool number_float(json::number_float_t value, const json::string_t& /*token*/) {
    return add(json(value)) != nullptr;
  }
  bool string(json::string_t& value) { return add(json(std::move(value))) != nullptr; }
  bool binary(json::binary_t& value) { return add(json::binary(std::move(value))) != nullptr; }

  bool start_object(std::size_t /*size*/) { return open(json::object()); }
  bool end_object() { return close(); }
  bool start_array(std::size_t /*size*/) { return open(json::array()); }
  bool end_array() { return close(); }

  bool key(json::string_t& name) {
    const auto& members = open_containers_.back()->get_ref<const json::object_t&>();
    if (members.contains(name)) {
      duplicate_key_ = std::move(name);
      return false;
    }
    pending_key_ = std::move(name);
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                   const json::exception& failure) {
    syntax_error_ = failure.what();
    return false;
  }

  [[nodiscard]] const std::optional<std::string>& syntax_error() const { return syntax_error_; }
  [[nodiscard]] const std::optional<std::string>& duplicate_key() const { return duplicate_key_; }
  [[nodiscard]] bool too_deep() const { return too_deep_; }
  // Keys (array positions as text) from the root to the innermost open container.
  [[nodiscard]] const std::vector<std::string>& open_path() const { return open_path_; }

 private:
  // Places a finished value where the parser is; returns where it now lives.
  json* add(json&& value) {
    if (open_containers_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& parent = *open_containers_.back();
    if (parent.is_object()) {
      auto& members = parent.get_ref<json::object_t&>();
      return &members.emplace(pending_key_, std::move(value)).first->second;
    }
    auto& elements = parent.get_ref<json::array_t&>();
    elements.push_back(std::move(value));
    return &elements.back();
  }

  bool open(json&& container) {
    if (open_containers_.size() >= max_json_depth) {
      too_deep_ = true;
      return false;
    }
    std::string step;
    if (!open_containers_.empty()) {
      const json& parent = *open_containers_.back();
      step = parent.is_object() ? pending_key_ : std::to_string(parent.size());
    }
    json* placed = add(std::move(container));
    if (!open_containers_.empty()) open_path_.push_back(std::move(step));
    open_containers_.push_back(placed);
    return true;
  }

  bool close() {
    open_containers_.pop_back();
    if (!open_containers_.empty()) open_path_.pop_back();
    return true;
  }

  json& root_;
  std::vector<json*> open_containers_;
  std::vector<std::string> open_path_;  // one shorter than open_containers_ (the root has no key)
  std::string pending_key_;
  std::optional<std::string> syntax_error_;
  std::optional<std::string> duplicate_key_;
  bool too_deep_ = false;
};

// "[json.exception.parse_error.101] parse error at ..." -> "parse error at ...".
std::string without_exception_tag(const std::string& message) {
  if (message.starts_with("[json.exception.")) {
    const auto end = message.find("] ");
    if (end != std::string::npos) return message.substr(end + 2);
  }
  return message;
}

std::string quoted_path(const std::vector<std::string>& path) {
  std::string text;
  for (const auto& step : path) {
    if (!text.empty()) text += " > ";
    text += fmt::format("'{}'", step);
  }
  return text;
}

// --- safetensors entries -------------------------------------------------------------------------

std::string describe_duplicate_in_header(const std::vector<std::string>& path,
                                         const std::string& key) {
  if (path.empty()) {
    return key == "__metadata__" ? std::string("duplicate key '__metadata__'")
                                 : fmt::format("duplicate tensor name '{}'", key);
  }
  if (path.front() == "__metadata__") return fmt::format("__metadata__: duplicate key '{}'", key);
  return fmt::format("tensor '{}': duplicate key '{}'", path.front(), key);
}

// A short description of an offending JSON value: numbers as written, other things by type (a
// hostile header could put megabytes where we expect a number).
std::string describe_value(const json& value) {
  if (value.is_number()) return value.dump();
  return json_kind(value);
}

// At most a few dimensions in messages, for the same reason.
std::string describe_shape(const std::vector<std::uint64_t>& shape) {
  constexpr std::size_t shown = 8;
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size() && i < shown; ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  if (shape.size() > shown) text += fmt::format(", ... ({} dimensions)", shape.size());
  return text + "]";
}

std::string supported_dtype_list() {
  std::string text;
  for (dtype t : all_dtypes) {
    if (!text.empty()) text += ", ";
    text += dtype_name(t);
  }
  return text;
}

// Builds error messages about one tensor of one file.
struct entry_context {
  const std::string& file_label;
  const std::string& tensor_name;

  [[noreturn]] void fail(const std::string& what) const {
    throw input_error(fmt::format("{}: tensor '{}': {}", file_label, tensor_name, what));
  }
};

constexpr std::array<std::string_view, 3> entry_keys = {"dtype", "shape", "data_offsets"};

dtype parse_entry_dtype(const json& value, const entry_context& where) {
  if (!value.is_string()) where.fail(fmt::format("dtype is {}, not a string", json_kind(value)));
  const auto& name = value.get_ref<const std::string&>();
  const auto type = parse_dtype(name);
  if (!type) {
    where.fail(
        fmt::format("unsupported dtype '{}' (lineage reads {})", name, supported_dtype_list()));
  }
  return *type;
}

std::vector<std::uint64_t> parse_entry_shape(const json& value, const entry_context& where) {
  if (!value.is_array()) where.fail(fmt::format("shape is {}, not an array", json_kind(value)));
  std::vector<std::uint64_t> shape;
  shape.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const json& extent = value[i];
    if (!extent.is_number_unsigned()) {
      where.fail(
          fmt::format("shape[{}] is {}, not a non-negative integer", i, describe_value(extent)));
    }
    shape.push_back(extent.get<std::uint64_t>());
  }
  return shape;
}

std::pair<std::uint64_t, std::uint64_t> parse_entry_offsets(const json& value,
                                                            const entry_context& where) {
  const bool well_formed = value.is_array() && value.size() == 2 && value[0].is_number_unsigned() &&
                           value[1].is_number_unsigned();
  if (!well_formed) {
    where.fail(fmt::format(
        "data_offsets must be [begin, end], two non-negative integers (got {})",
        value.is_array() ? fmt::format("an array of {}", value.size()) : describe_value(value)));
  }
  return {value[0].get<std::uint64_t>(), value[1].get<std::uint64_t>()};
}

tensor_entry parse_entry(const std::string& name, const json& value,
                         std::uint64_t data_section_bytes, const std::string& file_label) {
  const entry_context where{file_label, name};
  if (!value.is_object()) {
    where.fail(fmt::format("entry is {}, not an object with dtype, shape and data_offsets",
                           json_kind(value)));
  }
  for (const auto& [key, member] : value.items()) {
    if (std::find(entry_keys.begin(), entry_keys.end(), key) == entry_keys.end()) {
      where.fail(fmt::format(
          "unexpected key '{}' (an entry has exactly dtype, shape and data_offsets)", key));
    }
  }
  for (std::string_view key : entry_keys) {
    if (!value.contains(key)) where.fail(fmt::format("missing '{}'", key));
  }

  tensor_entry entry;
  entry.name = name;
  entry.type = parse_entry_dtype(value.at("dtype"), where);
  entry.shape = parse_entry_shape(value.at("shape"), where);
  std::tie(entry.data_begin, entry.data_end) = parse_entry_offsets(value.at("data_offsets"), where);

  if (entry.data_begin > entry.data_end) {
    where.fail(fmt::format("data_offsets [{}, {}] begin after they end", entry.data_begin,
                           entry.data_end));
  }
  if (entry.data_end > data_section_bytes) {
    where.fail(fmt::format("data_offsets [{}, {}] extend beyond the data section ({} bytes)",
                           entry.data_begin, entry.data_end, data_section_bytes));
  }

  std::uint64_t elements = 1;
  for (std::uint64_t extent : entry.shape) {
    if (__builtin_mul_overflow(elements, extent, &elements)) {
      where.fail(fmt::format("shape {} has more than 2^64 elements", describe_shape(entry.shape)));
    }
  }
  std::uint64_t expected_bytes = 0;
  if (__builtin_mul_overflow(elements, std::uint64_t{dtype_size(entry.type)}, &expected_bytes)) {
    where.fail(fmt::format("shape {} of {} needs more than 2^64 bytes", describe_shape(entry.shape),
                           dtype_name(entry.type)));
  }
  if (expected_bytes != entry.byte_length()) {
    where.fail(fmt::format("shape {} of {} needs {} bytes but data_offsets [{}, {}] hold {}",
                           describe_shape(entry.shape), dtype_name(entry.type), expected_bytes,
                           entry.data_begin, entry.data_end, entry.byte_length()));
  }
  return entry;
}

std::map<std::string, std::string> parse_metadata(const json& value,
                                                  const std::string& file_label) {
  if (!value.is_object()) {
    throw input_error(fmt::format("{}: __metadata__ is {}, not an object of strings", file_label,
                                  json_kind(value)));
  }
  std::map<std::string, std::string> metadata;
  for (const auto& [key, member] : value.items()) {
    if (!member.is_string()) {
      throw input_error(fmt::format("{}: __metadata__ '{}' is {}, not a string", file_label, key,
                                    json_kind(member)));
    }
    metadata.emplace(key, member.get<std::string>());
  }
  return metadata;
}

// Empty tensors occupy no bytes and so overlap nothing; any two others must be disjoint.
void reject_overlaps(const std::vector<tensor_entry>& by_begin, const std::string& file_label) {
  const tensor_entry* furthest = nullptr;  // the tensor reaching furthest so far
  for (const auto& entry : by_begin) {
    if (entry.byte_length() == 0) continue;
    if (furthest != nullptr && entry.data_begin < furthest->data_end) {
      throw input_error(fmt::format(
          "{}: tensors '{}' (data_offsets [{}, {}]) and '{}' (data_offsets [{}, {}]) overlap",
          file_label, furthest->name, furthest->data_begin, furthest->data_end, entry.name,
          entry.data_begin, entry.data_end));
    }
    if (furthest == nullptr || entry.data_end > furthest->data_end) furthest = &entry;
  }
}

std::uint64_t little_endian_u64(const std::array<std::byte, 8>& bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    value |= static_cast<std::uint64_t>(std::to_integer<std::uint8_t>(bytes[i])) << (8 * i);
  }
  return value;
}

}  // namespace

std::string json_kind(const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::null:
      return "null";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    default:
      return fmt::format("a {}", value.type_name());
  }
}

json parse_json_strictly(std::string_view text, const std::string& file_label,
                         const duplicate_key_wording& wording) {
  // nlohmann's lexer takes a NUL byte for the end of input, so "{}" followed by NUL and anything
  // at all would pass. A raw NUL is never valid JSON (inside strings it must be escaped).
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    throw input_error(fmt::format("{}: invalid JSON: NUL byte at offset {}", file_label, nul));
  }
  json root;
  strict_dom_builder builder(root);
  const bool complete = json::sax_parse(text.begin(), text.end(), &builder,
                                        json::input_format_t::json, /*strict=*/true);
  if (complete) return root;
  if (builder.duplicate_key()) {
    const auto& key = *builder.duplicate_key();
    const auto& path = builder.open_path();
    const std::string what = wording ? wording(path, key)
                             : path.empty()
                                 ? fmt::format("duplicate key '{}'", key)
                                 : fmt::format("duplicate key '{}' in {}", key, quoted_path(path));
    throw input_error(fmt::format("{}: {}", file_label, what));
  }
  if (builder.too_deep()) {
    throw input_error(
        fmt::format("{}: JSON nested deeper than {} levels", file_label, max_json_depth));
  }
  throw input_error(
      fmt::format("{}: invalid JSON: {}", file_label,
                  without_exception_tag(builder.syntax_error().value_or("unknown error"))));
}

std::uint64_t tensor_entry::element_count() const noexcept {
  std::uint64_t elements = 1;
  for (std::uint64_t extent : shape) elements *= extent;
  return elements;
}

safetensors_header parse_safetensors_header(std::string_view json_text, std::uint64_t file_size,
                                            const std::string& file_label) {
  safetensors_header header;
  header.file_size = file_size;
  header.json_bytes = json_text.size();
  if (file_size < 8 || header.json_bytes > file_size - 8) {
    throw input_error(
        fmt::format("{}: header length {} extends beyond the end of the file ({} bytes)",
                    file_label, header.json_bytes, file_size));
  }
  const std::uint64_t data_section_bytes = file_size - header.data_section_offset();

  const json document = parse_json_strictly(json_text, file_label, describe_duplicate_in_header);
  if (!document.is_object()) {
    throw input_error(
        fmt::format("{}: header is {}, not an object", file_label, json_kind(document)));
  }
  for (const auto& [name, value] : document.items()) {
    if (name == "__metadata__") {
      header.metadata = parse_metadata(value, file_label);
    } else {
      header.tensors.push_back(parse_entry(name, value, data_section_bytes, file_label));
    }
  }
  std::sort(header.tensors.begin(), header.tensors.end(),
            [](const tensor_entry& a, const tensor_entry& b) {
              return std::tie(a.data_begin, a.data_end, a.name) <
                     std::tie(b.data_begin, b.data_end, b.name);
            });
  reject_overlaps(header.tensors, file_label);
  return header;
}

namespace {
safetensors_header read_header(const std::filesystem::path& path, bool header_only) {
  const read_only_file file(path);
  const std::string label = path.string();
  if (file.size() < 8) {
    throw input_error(fmt::format("{}: file is {} bytes, too short for the 8-byte header length",
                                  label, file.size()));
  }
  std::array<std::byte, 8> prefix{};
  file.read_exact(0, prefix);
  const std::uint64_t json_bytes = little_endian_u64(prefix);
  if (json_bytes == 0) throw input_error(fmt::format("{}: header length is 0", label));
  if (json_bytes > max_safetensors_header_bytes) {
    throw input_error(fmt::format("{}: header length {} exceeds the limit of {} bytes", label,
                                  json_bytes, max_safetensors_header_bytes));
  }
  if (json_bytes > file.size() - 8) {
    throw input_error(
        fmt::format("{}: header length {} extends beyond the end of the file ({} bytes)", label,
                    json_bytes, file.size()));
  }
  std::string json_text(static_cast<std::size_t>(json_bytes), '\0');
  file.read_exact(8, std::as_writable_bytes(std::span<char>(json_text)));
  if (!header_only) return parse_safetensors_header(json_text, file.size(), label);
  // No data section to check offsets against: an unbounded one. Every other check still applies
  // (shape × dtype size = end − begin, no overlaps).
  safetensors_header header =
      parse_safetensors_header(json_text, std::numeric_limits<std::uint64_t>::max(), label);
  std::uint64_t data_bytes = 0;
  for (const auto& entry : header.tensors) data_bytes = std::max(data_bytes, entry.data_end);
  if (data_bytes > std::numeric_limits<std::uint64_t>::max() - header.data_section_offset()) {
    throw input_error(fmt::format("{}: data_offsets end at {}, beyond any file size", label, data_bytes));
  }
  header.file_size = header.data_section_offset() + data_bytes;
  return header;
}
}  // namespace

safetensors_header read_safetensors_header(const std::filesystem::path& path) {
  return read_header(path, false);
}

safetensors_header read_safetensors_header_only(const std::filesystem::path& path) {
  return read_header(path, true);
}

}  // namespace lineage
