// read_tokenizer and apply_tokenizer_config: the files around parse_tokenizer_json.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <utility>

#include "checkpoint/mapped_file.hpp"
#include "checkpoint/safetensors_header.hpp"
#include "core/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace lineage {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::string read_capped_text(const fs::path& path) {
  const read_only_file file(path);
  if (file.size() > max_tokenizer_file_bytes)
    throw input_error(fmt::format("{}: {} bytes, more than the {} bytes a tokenizer file may have", path.string(),
                                  file.size(), max_tokenizer_file_bytes));
  std::string text(static_cast<std::size_t>(file.size()), '\0');
  file.read_exact(0, std::as_writable_bytes(std::span<char>(text)));
  return text;
}

// A special token in tokenizer_config.json: "text", {"content": "text", ...} or null.
void collect_special(const json& value, const std::string& where, const std::string& file_label, std::set<std::string>& names) {
  if (value.is_null()) return;
  if (value.is_string()) {
    names.insert(value.get<std::string>());
    return;
  }
  const auto content = value.is_object() ? value.find("content") : value.end();
  if (!value.is_object() || content == value.end() || !content->is_string())
    throw input_error(fmt::format("{}: {} is {}, not a token string or {{\"content\": ...}}", file_label, where, json_kind(value)));
  names.insert(content->get<std::string>());
}

std::set<std::string> special_names(const json& config, const std::string& file_label) {
  std::set<std::string> names;
  for (const char* key : {"bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token", "mask_token"})
    if (const auto found = config.find(key); found != config.end()) collect_special(*found, key, file_label, names);
  if (const auto extra = config.find("additional_special_tokens"); extra != config.end() && !extra->is_null()) {
    if (!extra->is_array())
      throw input_error(fmt::format("{}: additional_special_tokens is {}, not an array", file_label, json_kind(*extra)));
    for (std::size_t i = 0; i < extra->size(); ++i)
      collect_special((*extra)[i], fmt::format("additional_special_tokens[{}]", i), file_label, names);
  }
  if (const auto decoder = config.find("added_tokens_decoder"); decoder != config.end() && !decoder->is_null()) {
    if (!decoder->is_object())
      throw input_error(fmt::format("{}: added_tokens_decoder is {}, not an object", file_label, json_kind(*decoder)));
    for (const auto& [id, entry] : decoder->items()) {
      const std::string where = fmt::format("added_tokens_decoder[{}]", id);
      const auto special = entry.is_object() ? entry.find("special") : entry.end();
      if (!entry.is_object() || (special != entry.end() && !special->is_boolean()))
        throw input_error(fmt::format("{}: {} is not an object with a boolean 'special'", file_label, where));
      if (special != entry.end() && special->get<bool>()) collect_special(entry, where, file_label, names);
    }
  }
  return names;
}

}  // namespace

void apply_tokenizer_config(std::string_view text, const std::string& file_label, tokenizer_vocabulary& vocabulary) {
  const json config = parse_json_strictly(text, file_label);
  if (!config.is_object())
    throw input_error(fmt::format("{}: tokenizer_config.json is {}, not an object", file_label, json_kind(config)));
  const auto names = special_names(config, file_label);
  for (auto& token : vocabulary.tokens)
    if (names.contains(token.piece)) token.special = true;
}

namespace {

// The texts a vocabulary is read from: tokenizer.json and, when present, tokenizer_config.json.
struct tokenizer_texts {
  fs::path file, config;
  std::string text;
  std::optional<std::string> config_text;

  bool operator==(const tokenizer_texts& other) const { return text == other.text && config_text == other.config_text; }
};

tokenizer_texts read_texts(const fs::path& path) {
  std::error_code ec;
  tokenizer_texts t;
  t.file = fs::is_directory(path, ec) ? path / "tokenizer.json" : path;
  if (!fs::exists(t.file, ec)) {
    throw input_error(fs::is_directory(path, ec)
                          ? fmt::format("{}: no tokenizer.json in this directory", path.string())
                          : fmt::format("{}: no such file", path.string()));
  }
  t.text = read_capped_text(t.file);
  t.config = t.file.parent_path() / "tokenizer_config.json";
  if (fs::exists(t.config, ec)) t.config_text = read_capped_text(t.config);
  return t;
}

tokenizer_vocabulary parse_texts(const tokenizer_texts& t) {
  tokenizer_vocabulary vocabulary = parse_tokenizer_json(t.text, t.file.string());
  if (t.config_text) apply_tokenizer_config(*t.config_text, t.config.string(), vocabulary);
  return vocabulary;
}

}  // namespace

tokenizer_vocabulary read_tokenizer(const fs::path& path) { return parse_texts(read_texts(path)); }

std::pair<tokenizer_vocabulary, tokenizer_vocabulary> read_tokenizers(const fs::path& a, const fs::path& b) {
  const tokenizer_texts text_a = read_texts(a), text_b = read_texts(b);
  tokenizer_vocabulary vocabulary_a = parse_texts(text_a);
  if (!(text_a == text_b)) return {std::move(vocabulary_a), parse_texts(text_b)};
  // The same bytes (a derivative that kept its parent's tokenizer): parsed once.
  tokenizer_vocabulary vocabulary_b = vocabulary_a;
  vocabulary_b.source = text_b.file.string();
  return {std::move(vocabulary_a), std::move(vocabulary_b)};
}

}  // namespace lineage
