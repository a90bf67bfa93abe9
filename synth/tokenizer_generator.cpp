#include "synth/tokenizer_generator.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <unordered_set>
#include <vector>

#include "core/byte_unicode.hpp"
#include "core/error.hpp"
#include "core/random_stream.hpp"

namespace lineage::synth {
namespace {

using json = nlohmann::ordered_json;

constexpr std::uint64_t language_seed = 0x746f6b656e;  // the one "language" every tokenizer follows
constexpr double own_choice_share = 0.1;
constexpr int draws_per_merge = 64;

// The pieces (byte-level spelling) by id, and the merges that made pieces 256.. (or the parent's).
struct bpe_vocabulary {
  std::vector<std::string> pieces;
  json merges = json::array();
};

using stream_for_step = std::function<random_stream(std::uint64_t id)>;

// An id below `count`, lower ids likelier (density ∝ 1/√x).
std::uint64_t preferred_index(random_stream& stream, std::uint64_t count) {
  const double u = stream.uniform();
  return std::min(count - 1, static_cast<std::uint64_t>(std::floor(static_cast<double>(count) * u * u)));
}

// Appends `count` pieces, each the concatenation of two existing ones that is not yet a piece.
// Byte-level spellings concatenate as the bytes do, so a merge is the join of two spellings.
void grow(bpe_vocabulary& vocabulary, std::uint64_t count, const stream_for_step& stream_for) {
  std::unordered_set<std::string> known(vocabulary.pieces.begin(), vocabulary.pieces.end());
  for (std::uint64_t made = 0; made < count; ++made) {
    const auto& pieces = vocabulary.pieces;
    random_stream stream = stream_for(pieces.size());
    std::size_t left = 0, right = 0;
    bool found = false;
    for (int draw = 0; draw < draws_per_merge && !found; ++draw) {
      left = preferred_index(stream, pieces.size());
      right = preferred_index(stream, pieces.size());
      found = !known.contains(pieces[left] + pieces[right]);
    }
    if (!found) {  // the longest piece twice is longer than every piece
      left = right = static_cast<std::size_t>(std::max_element(pieces.begin(), pieces.end(),
                                                               [](const auto& x, const auto& y) { return x.size() < y.size(); }) -
                                              pieces.begin());
    }
    std::string joined = pieces[left] + pieces[right];
    vocabulary.merges.push_back(pieces[left] + " " + pieces[right]);
    known.insert(joined);
    vocabulary.pieces.push_back(std::move(joined));
  }
}

json byte_level_step(bool add_prefix_space) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", add_prefix_space}, {"trim_offsets", true}, {"use_regex", true}};
}

std::string tokenizer_text(const bpe_vocabulary& vocabulary) {
  json vocab = json::object();
  for (std::size_t id = 0; id < vocabulary.pieces.size(); ++id) vocab[vocabulary.pieces[id]] = id;
  const json model = {{"type", "BPE"},         {"dropout", nullptr},      {"unk_token", nullptr},
                      {"continuing_subword_prefix", nullptr},            {"end_of_word_suffix", nullptr},
                      {"fuse_unk", false},     {"byte_fallback", false},  {"vocab", vocab},
                      {"merges", vocabulary.merges}};
  const json document = {{"version", "1.0"},        {"truncation", nullptr},
                         {"padding", nullptr},       {"added_tokens", json::array()},
                         {"normalizer", nullptr},    {"pre_tokenizer", byte_level_step(false)},
                         {"post_processor", nullptr}, {"decoder", byte_level_step(true)},
                         {"model", model}};
  return document.dump(1) + "\n";
}

}  // namespace

std::string independent_tokenizer_json(std::uint64_t vocab, std::uint64_t tokenizer_seed) {
  bpe_vocabulary vocabulary;
  const auto& alphabet = byte_level_alphabet_order();
  for (std::uint64_t id = 0; id < vocab && id < alphabet.size(); ++id)
    vocabulary.pieces.push_back(byte_level_spelling(std::string(1, static_cast<char>(alphabet[id]))));
  if (vocab > alphabet.size()) {
    grow(vocabulary, vocab - alphabet.size(), [tokenizer_seed](std::uint64_t id) {
      random_stream own(tokenizer_seed, "synth tokenizer", std::to_string(id));
      if (own.uniform() < own_choice_share) return own;
      return random_stream(language_seed, "synth tokenizer language", std::to_string(id));
    });
  }
  return tokenizer_text(vocabulary);
}

std::string extended_tokenizer_json(const std::string& parent_json, const std::string& parent_label,
                                    std::uint64_t vocab, std::uint64_t tokens, std::uint64_t seed) {
  json document;
  try {
    document = json::parse(parent_json);
  } catch (const json::exception& e) {
    throw input_error(fmt::format("{}: not valid JSON: {}", parent_label, e.what()));
  }
  const auto fail = [&](const std::string& what) {
    return input_error(fmt::format("synth derive: --kind extend-vocab: {}: {}", parent_label, what));
  };
  if (!document.is_object() || !document.contains("model") || !document["model"].is_object()) throw fail("no model");
  json& model = document["model"];
  if (model.value("type", "") != "BPE" || !model["vocab"].is_object() || !model["merges"].is_array())
    throw fail("not a BPE tokenizer with a vocab object and a merges array");
  if (model["vocab"].size() != vocab)
    throw fail(fmt::format("{} pieces, but the embedding has {} rows", model["vocab"].size(), vocab));
  bpe_vocabulary vocabulary;
  vocabulary.pieces.resize(vocab);
  for (const auto& [piece, id] : model["vocab"].items()) {
    if (!id.is_number_unsigned() || id.get<std::uint64_t>() >= vocab) throw fail(fmt::format("piece id {} is not below {}", id.dump(), vocab));
    vocabulary.pieces[id.get<std::size_t>()] = piece;
  }
  vocabulary.merges = model["merges"];
  grow(vocabulary, tokens, [seed](std::uint64_t id) { return random_stream(seed, "derive extend-vocab tokenizer", std::to_string(id)); });
  for (std::uint64_t id = vocab; id < vocabulary.pieces.size(); ++id) model["vocab"][vocabulary.pieces[id]] = id;
  model["merges"] = vocabulary.merges;
  return document.dump(1) + "\n";
}

}  // namespace lineage::synth
