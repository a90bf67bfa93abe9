#include "tokenizer/tokenizer.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include "checkpoint/safetensors_header.hpp"
#include "core/error.hpp"
#include "tokenizer/tokenizer_text.hpp"

namespace lineage {
namespace {

using json = nlohmann::json;

// Where an entry is, for an error message: a string, or a function that makes one, so that the
// tens of thousands of entries of a vocabulary format their place only when one is refused.
template <class Where>
std::string place(const Where& where) {
  if constexpr (std::is_invocable_v<const Where&>)
    return where();
  else
    return where;
}

// Collects the tokens of one file, refusing ids or pieces that two entries claim. The pieces are
// keyed by views of the parsed document's strings, which outlive the table.
class token_table {
 public:
  explicit token_table(const std::string& file_label) : label_(file_label) {}

  [[noreturn]] void fail(const std::string& what) const { throw input_error(fmt::format("{}: {}", label_, what)); }

  void reserve(std::size_t tokens) {
    tokens_.reserve(tokens);
    index_of_id_.reserve(tokens);
    id_of_piece_.reserve(tokens);
  }

  template <class Where>
  std::uint32_t checked_id(const json& value, const Where& where) const {
    if (!value.is_number_integer()) fail(fmt::format("{}: id is {}, not an integer", place(where), json_kind(value)));
    if (value.is_number_unsigned() && value.get<std::uint64_t>() <= max_token_id)
      return static_cast<std::uint32_t>(value.get<std::uint64_t>());
    fail(fmt::format("{}: id {} is outside 0..{}", place(where), value.dump(), max_token_id));
  }

  template <class Where>
  void add_model_piece(const std::string& piece, std::uint32_t id, const Where& where) {
    if (id_of_piece_.contains(piece)) fail(fmt::format("{}: piece {} is listed twice", place(where), shown_piece(piece)));
    const auto [slot, fresh] = index_of_id_.try_emplace(id, static_cast<std::uint32_t>(tokens_.size()));
    if (!fresh)
      fail(fmt::format("{}: {} and {} both have id {}", place(where), shown_piece(tokens_[slot->second].piece),
                       shown_piece(piece), id));
    tokens_.push_back(vocabulary_token{id, piece, true, false, false});
    id_of_piece_.emplace(piece, id);
  }

  void add_added_token(const std::string& piece, std::uint32_t id, bool special, const std::string& where) {
    const auto known = id_of_piece_.find(piece);
    if (known != id_of_piece_.end() && known->second != id)
      fail(fmt::format("{}: {} has id {} but is already id {}", where, shown_piece(piece), id, known->second));
    const auto [slot, fresh] = index_of_id_.try_emplace(id, static_cast<std::uint32_t>(tokens_.size()));
    if (fresh) tokens_.push_back(vocabulary_token{id, piece, false, false, false});
    vocabulary_token& token = tokens_[slot->second];
    if (token.piece != piece)
      fail(fmt::format("{}: id {} is {}, not {}", where, id, shown_piece(token.piece), shown_piece(piece)));
    if (token.added) fail(fmt::format("{}: {} (id {}) is added twice", where, shown_piece(piece), id));
    token.added = true;
    token.special = special;
    id_of_piece_.emplace(piece, id);
  }

  [[nodiscard]] bool has_piece(std::string_view piece) const { return id_of_piece_.contains(piece); }

  // By id (the ids are distinct).
  std::vector<vocabulary_token> sorted_tokens() && {
    std::sort(tokens_.begin(), tokens_.end(), [](const vocabulary_token& x, const vocabulary_token& y) { return x.id < y.id; });
    return std::move(tokens_);
  }

 private:
  const std::string& label_;
  std::vector<vocabulary_token> tokens_;
  std::unordered_map<std::uint32_t, std::uint32_t> index_of_id_;  // id → its token in tokens_
  std::unordered_map<std::string_view, std::uint32_t> id_of_piece_;
};

const json* member(const json& object, const char* key) {
  const auto found = object.find(key);
  return found == object.end() || found->is_null() ? nullptr : &*found;
}

tokenizer_kind model_kind(const json& model, const token_table& table) {
  const json* type = member(model, "type");
  if (type == nullptr) {
    // Older files leave the type out; the fields say which model it is.
    if (model.contains("merges")) return tokenizer_kind::bpe;
    if (const json* vocab = member(model, "vocab"); vocab && vocab->is_array()) return tokenizer_kind::unigram;
    table.fail("model has no 'type' (BPE, Unigram or WordPiece)");
  }
  if (!type->is_string()) table.fail(fmt::format("model.type is {}, not a string", json_kind(*type)));
  const auto& name = type->get_ref<const std::string&>();
  if (name == "BPE") return tokenizer_kind::bpe;
  if (name == "Unigram") return tokenizer_kind::unigram;
  if (name == "WordPiece") return tokenizer_kind::wordpiece;
  table.fail(fmt::format("model.type {} is not supported (lineage reads BPE, Unigram and WordPiece)", shown_piece(name)));
}

// BPE and WordPiece: {"piece": id, ...}.
void read_piece_ids(const json& vocab, token_table& table) {
  if (!vocab.is_object()) table.fail(fmt::format("model.vocab is {}, not an object of piece: id", json_kind(vocab)));
  for (const auto& entry : vocab.items()) {
    const std::string& piece = entry.key();  // a name, not a structured binding: lambdas capture it (clang 14)
    const auto where = [&piece] { return fmt::format("model.vocab[{}]", shown_piece(piece)); };
    table.add_model_piece(piece, table.checked_id(entry.value(), where), where);
  }
}

// Unigram: [["piece", score], ...]; the id is the position.
void read_scored_pieces(const json& vocab, token_table& table) {
  if (!vocab.is_array()) table.fail(fmt::format("model.vocab is {}, not an array of [piece, score]", json_kind(vocab)));
  if (vocab.size() > max_token_id + 1) table.fail(fmt::format("model.vocab has {} entries, more than {}", vocab.size(), max_token_id + 1));
  for (std::size_t i = 0; i < vocab.size(); ++i) {
    const json& entry = vocab[i];
    const auto where = [i] { return fmt::format("model.vocab[{}]", i); };
    if (!entry.is_array() || entry.size() != 2 || !entry[0].is_string() || !entry[1].is_number())
      table.fail(fmt::format("{} is not a [piece, score] pair", where()));
    table.add_model_piece(entry[0].get_ref<const std::string&>(), static_cast<std::uint32_t>(i), where);
  }
}

merge_rule read_merge(const json& value, std::size_t index, const token_table& table) {
  const auto where = [index] { return fmt::format("model.merges[{}]", index); };
  merge_rule rule;
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    const auto space = text.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == text.size() || text.find(' ', space + 1) != std::string::npos)
      table.fail(fmt::format("{}: {} is not two pieces separated by one space", where(), shown_piece(text)));
    rule = {text.substr(0, space), text.substr(space + 1)};
  } else if (value.is_array() && value.size() == 2 && value[0].is_string() && value[1].is_string()) {
    rule = {value[0].get<std::string>(), value[1].get<std::string>()};
  } else {
    table.fail(fmt::format("{} is {}, not \"left right\" or [\"left\", \"right\"]", where(), json_kind(value)));
  }
  for (const auto* piece : {&rule.left, &rule.right})
    if (!table.has_piece(*piece)) table.fail(fmt::format("{}: {} is not in model.vocab", where(), shown_piece(*piece)));
  return rule;
}

std::vector<merge_rule> read_merges(const json& model, const token_table& table) {
  const json* merges = member(model, "merges");
  if (merges == nullptr) return {};
  if (!merges->is_array()) table.fail(fmt::format("model.merges is {}, not an array", json_kind(*merges)));
  std::vector<merge_rule> rules;
  rules.reserve(merges->size());
  for (std::size_t i = 0; i < merges->size(); ++i)
    rules.push_back(read_merge((*merges)[i], i, table));
  return rules;
}

void read_added_tokens(const json& root, token_table& table) {
  const json* added = member(root, "added_tokens");
  if (added == nullptr) return;
  if (!added->is_array()) table.fail(fmt::format("added_tokens is {}, not an array", json_kind(*added)));
  for (std::size_t i = 0; i < added->size(); ++i) {
    const json& entry = (*added)[i];
    const std::string where = fmt::format("added_tokens[{}]", i);
    if (!entry.is_object()) table.fail(fmt::format("{} is {}, not an object", where, json_kind(entry)));
    const json* id = member(entry, "id");
    const json* content = member(entry, "content");
    const json* special = member(entry, "special");
    if (id == nullptr) table.fail(fmt::format("{} has no 'id'", where));
    if (content == nullptr || !content->is_string()) table.fail(fmt::format("{}: 'content' is missing or not a string", where));
    if (special != nullptr && !special->is_boolean()) table.fail(fmt::format("{}: 'special' is {}, not a boolean", where, json_kind(*special)));
    table.add_added_token(content->get_ref<const std::string&>(), table.checked_id(*id, where), special && special->get<bool>(),
                          where);
  }
}

// True when `value` or anything inside it is an object of this "type" (Sequence steps nest).
bool has_step(const json* value, std::string_view type) {
  if (value == nullptr || !value->is_structured()) return false;
  if (value->is_object()) {
    const json* own = member(*value, "type");
    if (own && own->is_string() && own->get_ref<const std::string&>() == type) return true;
  }
  return std::any_of(value->begin(), value->end(), [&](const json& child) { return has_step(&child, type); });
}

bool mentions_string(const json* value, std::string_view text) {
  if (value == nullptr) return false;
  if (value->is_string()) return value->get_ref<const std::string&>() == text;
  return value->is_structured() &&
         std::any_of(value->begin(), value->end(), [&](const json& child) { return mentions_string(&child, text); });
}

void read_spelling_flags(const json& root, const json& model, tokenizer_vocabulary& out) {
  const json* pre_tokenizer = member(root, "pre_tokenizer");
  const json* decoder = member(root, "decoder");
  const json* normalizer = member(root, "normalizer");
  out.byte_level = has_step(pre_tokenizer, "ByteLevel") || has_step(decoder, "ByteLevel");
  const json* byte_fallback = member(model, "byte_fallback");
  bool metaspace = out.kind == tokenizer_kind::unigram || (byte_fallback && byte_fallback->is_boolean() && byte_fallback->get<bool>());
  for (const json* step : {pre_tokenizer, decoder, normalizer})
    metaspace = metaspace || has_step(step, "Metaspace") || mentions_string(step, sentencepiece_space);
  out.sentencepiece = !out.byte_level && metaspace;
  if (out.kind == tokenizer_kind::wordpiece) {
    const json* prefix = member(model, "continuing_subword_prefix");
    if (prefix && !prefix->is_string())
      throw input_error(fmt::format("{}: model.continuing_subword_prefix is {}, not a string", out.source, json_kind(*prefix)));
    out.continuing_subword_prefix = prefix ? prefix->get<std::string>() : "##";
  }
}

}  // namespace

std::uint64_t tokenizer_vocabulary::model_pieces() const noexcept {
  return static_cast<std::uint64_t>(std::count_if(tokens.begin(), tokens.end(), [](const vocabulary_token& t) { return t.in_model; }));
}

std::uint64_t tokenizer_vocabulary::added_count() const noexcept {
  return static_cast<std::uint64_t>(std::count_if(tokens.begin(), tokens.end(), [](const vocabulary_token& t) { return t.added; }));
}

std::uint64_t tokenizer_vocabulary::special_count() const noexcept {
  return static_cast<std::uint64_t>(std::count_if(tokens.begin(), tokens.end(), [](const vocabulary_token& t) { return t.special; }));
}

std::string_view tokenizer_kind_name(tokenizer_kind kind) noexcept {
  switch (kind) {
    case tokenizer_kind::bpe: return "bpe";
    case tokenizer_kind::unigram: return "unigram";
    case tokenizer_kind::wordpiece: return "wordpiece";
  }
  return "?";
}

tokenizer_vocabulary parse_tokenizer_json(std::string_view text, const std::string& file_label) {
  const json root = parse_json_strictly(text, file_label);
  token_table table(file_label);
  if (!root.is_object()) table.fail(fmt::format("tokenizer.json is {}, not an object", json_kind(root)));
  const json* model = member(root, "model");
  if (model == nullptr) table.fail("no 'model' (the vocabulary)");
  if (!model->is_object()) table.fail(fmt::format("'model' is {}, not an object", json_kind(*model)));

  tokenizer_vocabulary out;
  out.source = file_label;
  out.kind = model_kind(*model, table);
  const json* vocab = member(*model, "vocab");
  if (vocab == nullptr) table.fail("model has no 'vocab'");
  if (vocab->is_structured()) table.reserve(vocab->size());
  if (out.kind == tokenizer_kind::unigram)
    read_scored_pieces(*vocab, table);
  else
    read_piece_ids(*vocab, table);
  if (out.kind == tokenizer_kind::bpe) out.merges = read_merges(*model, table);
  read_added_tokens(root, table);
  read_spelling_flags(root, *model, out);
  out.tokens = std::move(table).sorted_tokens();
  return out;
}

}  // namespace lineage
