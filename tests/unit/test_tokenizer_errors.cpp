// tokenizer.json is untrusted input: every malformed case ends in one input_error line that names
// the file and what is wrong, never in a crash or a silently wrong vocabulary.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.hpp"
#include "tokenizer/tokenizer.hpp"

namespace {

struct malformed_case {
  const char* name;
  std::string text;
  std::string message;  // the expected text after "bad.json: "
};

const malformed_case malformed_cases[] = {
    {"NotJson", R"({"model": )", "invalid JSON"},
    {"NulByte", std::string("{}\0{}", 5), "NUL byte at offset 2"},
    {"NotAnObject", "[]", "tokenizer.json is an array, not an object"},
    {"NoModel", R"({"added_tokens": []})", "no 'model' (the vocabulary)"},
    {"ModelNotObject", R"({"model": 3})", "'model' is a number, not an object"},
    {"UnknownType", R"({"model": {"type": "WordLevel", "vocab": {}}})", "model.type 'WordLevel' is not supported"},
    {"TypeNotString", R"({"model": {"type": 1, "vocab": {}}})", "model.type is a number, not a string"},
    {"NoType", R"({"model": {"vocab": {"a": 0}}})", "model has no 'type'"},
    {"NoVocab", R"({"model": {"type": "BPE"}})", "model has no 'vocab'"},
    {"VocabNotObject", R"({"model": {"type": "BPE", "vocab": ["a"]}})", "model.vocab is an array, not an object of piece: id"},
    {"IdNotInteger", R"({"model": {"type": "BPE", "vocab": {"a": "0"}}})", "model.vocab['a']: id is a string, not an integer"},
    {"IdFraction", R"({"model": {"type": "BPE", "vocab": {"a": 0.5}}})", "model.vocab['a']: id is a number, not an integer"},
    {"IdNegative", R"({"model": {"type": "BPE", "vocab": {"a": -1}}})", "model.vocab['a']: id -1 is outside 0..16777215"},
    {"IdBeyondRange", R"({"model": {"type": "BPE", "vocab": {"a": 16777216}}})", "id 16777216 is outside 0..16777215"},
    {"DuplicateId", R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}}})", "model.vocab['b']: 'a' and 'b' both have id 0"},
    {"DuplicatePiece", R"({"model": {"type": "BPE", "vocab": {"a": 0, "a": 1}}})", "duplicate key 'a' in 'model' > 'vocab'"},
    {"UnigramNotPairs", R"({"model": {"type": "Unigram", "vocab": [["a", 0], ["b"]]}})", "model.vocab[1] is not a [piece, score] pair"},
    {"UnigramScoreNotNumber", R"({"model": {"type": "Unigram", "vocab": [["a", "x"]]}})", "model.vocab[0] is not a [piece, score] pair"},
    {"UnigramRepeatsPiece", R"({"model": {"type": "Unigram", "vocab": [["a", 0], ["a", -1]]}})", "model.vocab[1]: piece 'a' is listed twice"},
    {"MergesNotArray", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": {}}})", "model.merges is an object, not an array"},
    {"MergeOnePiece", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}})", "model.merges[0]: 'a' is not two pieces separated by one space"},
    {"MergeThreePieces", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a a a"]}})", "model.merges[0]: 'a a a' is not two pieces"},
    {"MergeWrongType", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a"]]}})", "model.merges[0] is an array, not \"left right\""},
    {"MergeUnknownPiece", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})", "model.merges[0]: 'b' is not in model.vocab"},
    {"AddedNotArray", R"({"added_tokens": {}, "model": {"type": "BPE", "vocab": {}}})", "added_tokens is an object, not an array"},
    {"AddedNotObject", R"({"added_tokens": [1], "model": {"type": "BPE", "vocab": {}}})", "added_tokens[0] is a number, not an object"},
    {"AddedNoId", R"({"added_tokens": [{"content": "x"}], "model": {"type": "BPE", "vocab": {}}})", "added_tokens[0] has no 'id'"},
    {"AddedNoContent", R"({"added_tokens": [{"id": 1}], "model": {"type": "BPE", "vocab": {}}})", "added_tokens[0]: 'content' is missing or not a string"},
    {"AddedSpecialNotBool", R"({"added_tokens": [{"id": 1, "content": "x", "special": 1}], "model": {"type": "BPE", "vocab": {}}})",
     "added_tokens[0]: 'special' is a number, not a boolean"},
    {"AddedIdTaken", R"({"added_tokens": [{"id": 0, "content": "x"}], "model": {"type": "BPE", "vocab": {"a": 0}}})",
     "added_tokens[0]: id 0 is 'a', not 'x'"},
    {"AddedPieceElsewhere", R"({"added_tokens": [{"id": 7, "content": "a"}], "model": {"type": "BPE", "vocab": {"a": 0}}})",
     "added_tokens[0]: 'a' has id 7 but is already id 0"},
    {"AddedTwice", R"({"added_tokens": [{"id": 1, "content": "x"}, {"id": 1, "content": "x"}], "model": {"type": "BPE", "vocab": {}}})",
     "added_tokens[1]: 'x' (id 1) is added twice"},
    {"AddedIdBeyondRange", R"({"added_tokens": [{"id": 99999999, "content": "x"}], "model": {"type": "BPE", "vocab": {}}})",
     "added_tokens[0]: id 99999999 is outside 0..16777215"},
    {"PrefixNotString", R"({"model": {"type": "WordPiece", "continuing_subword_prefix": 2, "vocab": {}}})",
     "model.continuing_subword_prefix is a number, not a string"},
    {"LongPieceShortened", R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]}})",
     "'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'... is not in model.vocab"},
};

class MalformedTokenizer : public ::testing::TestWithParam<malformed_case> {};

TEST_P(MalformedTokenizer, OneLineNamingFileAndKey) {
  const auto& c = GetParam();
  try {
    lineage::parse_tokenizer_json(c.text, "bad.json");
    FAIL() << "accepted: " << c.text;
  } catch (const lineage::input_error& e) {
    const std::string message = e.what();
    EXPECT_TRUE(message.starts_with("bad.json: ")) << message;
    EXPECT_NE(message.find(c.message), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, MalformedTokenizer, ::testing::ValuesIn(malformed_cases),
                         [](const auto& test) { return std::string(test.param.name); });

TEST(MalformedTokenizerConfig, WrongTypesAreNamed) {
  auto v = lineage::parse_tokenizer_json(R"({"model": {"type": "BPE", "vocab": {"a": 0}}})", "t.json");
  const std::pair<const char*, const char*> cases[] = {
      {R"({"bos_token": 3})", "bos_token is a number, not a token string"},
      {R"({"additional_special_tokens": "a"})", "additional_special_tokens is a string, not an array"},
      {R"({"additional_special_tokens": [{"text": "a"}]})", "additional_special_tokens[0] is an object, not a token string"},
      {R"({"added_tokens_decoder": []})", "added_tokens_decoder is an array, not an object"},
      {R"({"added_tokens_decoder": {"0": {"content": "a", "special": "yes"}}})", "added_tokens_decoder[0] is not an object with a boolean"},
      {R"([])", "tokenizer_config.json is an array, not an object"},
  };
  for (const auto& [text, needle] : cases) {
    try {
      lineage::apply_tokenizer_config(text, "config.json", v);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const lineage::input_error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }
}

TEST(MalformedTokenizerFile, TooLargeIsRefusedBeforeReading) {
  const auto dir = std::filesystem::path(LINEAGE_BINARY_DIR) / "test-work" / "tokenizer-too-large";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auto file = dir / "tokenizer.json";
  { std::ofstream(file) << "{}"; }
  std::filesystem::resize_file(file, lineage::max_tokenizer_file_bytes + 1);  // sparse
  try {
    lineage::read_tokenizer(dir);
    FAIL() << "a file over the cap was read";
  } catch (const lineage::input_error& e) {
    EXPECT_NE(std::string(e.what()).find("more than the 268435456 bytes a tokenizer file may have"), std::string::npos)
        << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
