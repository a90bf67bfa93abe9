// The safetensors header reader against hand-made files: every malformed file below is spelled out
// byte by byte (length prefix, JSON text, data), and every rejection must name the file and, where
// there is one, the tensor.
#include <gtest/gtest.h>

#include <string>

#include "safetensors_fixture.hpp"
#include "checkpoint/safetensors_header.hpp"

namespace lineage {
namespace {

using test::length_prefix;
using test::safetensors_bytes;
using test::throws_input_error;

class SafetensorsHeader : public ::testing::Test {
 protected:
  // Writes `bytes` as a .safetensors file and returns its path.
  std::filesystem::path file_with(const std::string& bytes) {
    return test::write_file(scratch_ / "model-00002-of-00003.safetensors", bytes);
  }
  ::testing::AssertionResult rejects(const std::string& bytes, std::vector<std::string> fragments) {
    const auto path = file_with(bytes);
    fragments.insert(fragments.begin(), path.string());
    return throws_input_error([&] { (void)read_safetensors_header(path); }, fragments);
  }

  test::temp_directory scratch_;
};

// --- the length prefix ---------------------------------------------------------------------------

TEST_F(SafetensorsHeader, RejectsFileShorterThanLengthPrefix) {
  EXPECT_TRUE(rejects(std::string("\x02\x00\x00\x00\x00", 5), {"5 bytes", "too short"}));
  EXPECT_TRUE(rejects(std::string(), {"0 bytes", "too short"}));
}

TEST_F(SafetensorsHeader, RejectsZeroHeaderLength) {
  EXPECT_TRUE(
      rejects(std::string("\x00\x00\x00\x00\x00\x00\x00\x00{}", 10), {"header length is 0"}));
}

TEST_F(SafetensorsHeader, RejectsHeaderLengthBeyondFile) {
  // Claims 0x64 = 100 bytes of JSON; 2 follow.
  EXPECT_TRUE(rejects(std::string("\x64\x00\x00\x00\x00\x00\x00\x00{}", 10),
                      {"header length 100", "beyond the end of the file (10 bytes)"}));
}

TEST_F(SafetensorsHeader, RejectsHeaderLengthOverCap) {
  // 0x05F5E101 = 100,000,001 bytes: one over the cap, rejected before anything is allocated.
  EXPECT_TRUE(rejects(std::string("\x01\xE1\xF5\x05\x00\x00\x00\x00{}", 10),
                      {"header length 100000001", "exceeds the limit"}));
  // A length with the top bit set must not wrap any arithmetic.
  EXPECT_TRUE(
      rejects(std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF{}", 10), {"exceeds the limit"}));
}

// --- the JSON ------------------------------------------------------------------------------------

TEST_F(SafetensorsHeader, RejectsInvalidJson) {
  EXPECT_TRUE(rejects(length_prefix(9) + R"({"w": {"d)", {"invalid JSON"}));
  EXPECT_TRUE(rejects(length_prefix(8) + R"({"w" 1 })", {"invalid JSON"}));
}

TEST_F(SafetensorsHeader, RejectsJsonThatIsNotAnObject) {
  EXPECT_TRUE(rejects(length_prefix(5) + "[1,2]", {"not an object"}));
  EXPECT_TRUE(rejects(length_prefix(2) + "17", {"not an object"}));
}

TEST_F(SafetensorsHeader, RejectsTrailingBytesOtherThanSpaces) {
  EXPECT_TRUE(rejects(length_prefix(4) + "{}xy", {"invalid JSON"}));
  // nlohmann's lexer alone would stop at the NUL and accept the rest unread.
  EXPECT_TRUE(rejects(length_prefix(4) + std::string("{}\0\0", 4), {"invalid JSON", "NUL"}));
  EXPECT_TRUE(rejects(length_prefix(6) + std::string("{}\0{}}", 6), {"invalid JSON", "NUL"}));
}

TEST_F(SafetensorsHeader, RejectsInvalidUtf8) {
  const std::string header =
      "{\"\xC3\x28\":1}";  // 0xC3 starts a 2-byte sequence; 0x28 cannot continue it
  EXPECT_TRUE(rejects(length_prefix(header.size()) + header, {"invalid JSON"}));
}

TEST_F(SafetensorsHeader, RejectsDeepNesting) {
  const std::string nested =
      R"({"__metadata__":)" + std::string(200, '[') + std::string(200, ']') + "}";
  EXPECT_TRUE(rejects(length_prefix(nested.size()) + nested, {"nested deeper than"}));
}

TEST_F(SafetensorsHeader, RejectsDuplicateTensorName) {
  const std::string header =
      R"({"model.norm.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
      R"("model.norm.weight":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
  EXPECT_TRUE(rejects(safetensors_bytes(header, std::string(8, '\0')),
                      {"duplicate tensor name 'model.norm.weight'"}));
}

TEST_F(SafetensorsHeader, RejectsDuplicateKeyInsideEntry) {
  // json::parse would keep the second dtype; the file would then say two things about one tensor.
  const std::string header =
      R"({"lm_head.weight":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}})";
  EXPECT_TRUE(rejects(safetensors_bytes(header, std::string(8, '\0')),
                      {"tensor 'lm_head.weight'", "duplicate key 'dtype'"}));
}

TEST_F(SafetensorsHeader, RejectsDuplicateMetadataKey) {
  const std::string header = R"({"__metadata__":{"format":"pt","format":"tf"}})";
  EXPECT_TRUE(rejects(safetensors_bytes(header), {"__metadata__", "duplicate key 'format'"}));
}

// --- entries -------------------------------------------------------------------------------------

TEST_F(SafetensorsHeader, RejectsUnsupportedDtypes) {
  for (const std::string dtype : {"I64", "U8", "BOOL", "F32 ", "f32", "garbage"}) {
    const std::string header = R"({"model.embed_tokens.weight":{"dtype":")" + dtype +
                               R"(","shape":[1],"data_offsets":[0,8]}})";
    EXPECT_TRUE(
        rejects(safetensors_bytes(header, std::string(8, '\0')),
                {"tensor 'model.embed_tokens.weight'", "unsupported dtype '" + dtype + "'"}))
        << dtype;
  }
}

TEST_F(SafetensorsHeader, RejectsDtypeThatIsNotAString) {
  const std::string header = R"({"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})";
  EXPECT_TRUE(rejects(safetensors_bytes(header, std::string(4, '\0')), {"tensor 'w'", "dtype"}));
}

TEST_F(SafetensorsHeader, RejectsShapeThatDisagreesWithByteLength) {
  // 2 x 3 F32 is 24 bytes; the offsets give 20.
  const std::string header = R"({"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})";
  EXPECT_TRUE(rejects(safetensors_bytes(header, std::string(24, '\0')),
                      {"tensor 'w'", "needs 24 bytes", "hold 20"}));
}

TEST_F(SafetensorsHeader, RejectsOverflowingShapeProduct) {
  // 2^32 * 2^32 = 2^64 elements: wraps to 0, which would match the empty data_offsets.
  const std::string elements =
      R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})";
  EXPECT_TRUE(rejects(safetensors_bytes(elements), {"tensor 'w'", "more than 2^64 elements"}));
  // 2^62 elements fit, 2^62 * 4 bytes do not (and would wrap to 0).
  const std::string bytes =
      R"({"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,0]}})";
  EXPECT_TRUE(rejects(safetensors_bytes(bytes), {"tensor 'w'", "more than 2^64 bytes"}));
}

TEST_F(SafetensorsHeader, RejectsNegativeAndNonIntegerShapeEntries) {
  for (const std::string extent : {"-1", "1.5", "2.0", "\"2\"", "null", "18446744073709551616"}) {
    const std::string header =
        R"({"w":{"dtype":"F32","shape":[1,)" + extent + R"(],"data_offsets":[0,4]}})";
    EXPECT_TRUE(rejects(safetensors_bytes(header, std::string(4, '\0')),
                        {"tensor 'w'", "shape[1]", "not a non-negative integer"}))
        << extent;
  }
  const std::string not_array = R"({"w":{"dtype":"F32","shape":4,"data_offsets":[0,16]}})";
  EXPECT_TRUE(
      rejects(safetensors_bytes(not_array, std::string(16, '\0')), {"tensor 'w'", "shape"}));
}

TEST_F(SafetensorsHeader, RejectsOffsetsBeyondDataSection) {
  // The data section was truncated to 250 bytes; the tensor claims bytes up to 300.
  const std::string header =
      R"({"model.layers.3.mlp.up_proj.weight":{"dtype":"F32","shape":[50],"data_offsets":[100,300]}})";
  EXPECT_TRUE(rejects(safetensors_bytes(header, std::string(250, '\0')),
                      {"tensor 'model.layers.3.mlp.up_proj.weight'", "data_offsets [100, 300]",
                       "beyond the data section (250 bytes)"}));
}

TEST_F(SafetensorsHeader, RejectsOverlappingTensors) {
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
  EXPECT_TRUE(rejects(safetensors_bytes(header, std::string(12, '\0')), {"'a'", "'b'", "overlap"}));
  // A small tensor wholly inside a big one.
  const std::string nested = R"({"big":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                             R"("next":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},)"
                             R"("small":{"dtype":"F16","shape":[1],"data_offsets":[8,10]}})";
  EXPECT_TRUE(
      rejects(safetensors_bytes(nested, std::string(20, '\0')), {"'big'", "'small'", "overlap"}));
}

TEST_F(SafetensorsHeader, RejectsBeginAfterEnd) {
  const std::string header = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}})";
  EXPECT_TRUE(rejects(safetensors_bytes(header, std::string(8, '\0')),
                      {"tensor 'w'", "data_offsets [8, 4]", "begin after"}));
}

TEST_F(SafetensorsHeader, RejectsMalformedDataOffsets) {
  for (const std::string offsets :
       {"[0]", "[0,4,8]", "[-4,0]", "[0,4.0]", "[\"0\",4]", "{}", "4"}) {
    const std::string header =
        R"({"w":{"dtype":"F32","shape":[1],"data_offsets":)" + offsets + "}}";
    EXPECT_TRUE(rejects(safetensors_bytes(header, std::string(8, '\0')),
                        {"tensor 'w'", "data_offsets must be [begin, end]"}))
        << offsets;
  }
}

TEST_F(SafetensorsHeader, RejectsMissingDataOffsets) {
  const std::string header = R"({"w":{"dtype":"F32","shape":[1]}})";
  EXPECT_TRUE(rejects(safetensors_bytes(header, std::string(4, '\0')),
                      {"tensor 'w'", "missing 'data_offsets'"}));
}

TEST_F(SafetensorsHeader, RejectsExtraKeyInEntry) {
  const std::string header = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"offset":0}})";
  EXPECT_TRUE(rejects(safetensors_bytes(header, std::string(4, '\0')),
                      {"tensor 'w'", "unexpected key 'offset'"}));
}

TEST_F(SafetensorsHeader, RejectsEntryThatIsNotAnObject) {
  EXPECT_TRUE(rejects(safetensors_bytes(R"({"w":[0,4]})", std::string(4, '\0')),
                      {"tensor 'w'", "not an object"}));
}

TEST_F(SafetensorsHeader, RejectsBadMetadata) {
  EXPECT_TRUE(rejects(safetensors_bytes(R"({"__metadata__":{"format":"pt","epoch":3}})"),
                      {"__metadata__ 'epoch'", "not a string"}));
  EXPECT_TRUE(
      rejects(safetensors_bytes(R"({"__metadata__":["pt"]})"), {"__metadata__", "not an object"}));
}

// --- valid files ---------------------------------------------------------------------------------

TEST_F(SafetensorsHeader, ReadsAllSixDtypes) {
  // Listed out of order on purpose: entries come back sorted by data_begin.
  const std::string header = R"({"e5m2":{"dtype":"F8_E5M2","shape":[3],"data_offsets":[44,47]},)"
                             R"("f64":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
                             R"("f32":{"dtype":"F32","shape":[2,2],"data_offsets":[16,32]},)"
                             R"("f16":{"dtype":"F16","shape":[2],"data_offsets":[32,36]},)"
                             R"("bf16":{"dtype":"BF16","shape":[1,3],"data_offsets":[36,42]},)"
                             R"("e4m3":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[42,44]}})";
  const auto path = file_with(safetensors_bytes(header, std::string(47, '\x3C')));
  const safetensors_header parsed = read_safetensors_header(path);

  EXPECT_EQ(parsed.json_bytes, header.size());
  EXPECT_EQ(parsed.data_section_offset(), 8 + header.size());
  EXPECT_EQ(parsed.file_size, 8 + header.size() + 47);
  ASSERT_EQ(parsed.tensors.size(), 6U);
  const std::vector<std::string> names = {"f64", "f32", "f16", "bf16", "e4m3", "e5m2"};
  const std::vector<dtype> types = {dtype::f64,  dtype::f32,     dtype::f16,
                                    dtype::bf16, dtype::f8_e4m3, dtype::f8_e5m2};
  for (std::size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(parsed.tensors[i].name, names[i]);
    EXPECT_EQ(parsed.tensors[i].type, types[i]);
  }
  EXPECT_EQ(parsed.tensors[1].shape, (std::vector<std::uint64_t>{2, 2}));
  EXPECT_EQ(parsed.tensors[1].element_count(), 4U);
  EXPECT_EQ(parsed.tensors[1].data_begin, 16U);
  EXPECT_EQ(parsed.tensors[1].byte_length(), 16U);
  EXPECT_EQ(parsed.tensors[3].element_count(), 3U);
  EXPECT_TRUE(parsed.metadata.empty());
}

TEST_F(SafetensorsHeader, AcceptsZeroSizeTensors) {
  // Empty tensors occupy no bytes, so one may sit anywhere, even inside another's range.
  const std::string header = R"({"empty":{"dtype":"F32","shape":[0,4096],"data_offsets":[8,8]},)"
                             R"("inside":{"dtype":"BF16","shape":[3,0],"data_offsets":[4,4]},)"
                             R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const auto parsed =
      read_safetensors_header(file_with(safetensors_bytes(header, std::string(8, '\0'))));
  ASSERT_EQ(parsed.tensors.size(), 3U);
  EXPECT_EQ(parsed.tensors[1].name, "inside");
  EXPECT_EQ(parsed.tensors[2].name, "empty");
  EXPECT_EQ(parsed.tensors[2].element_count(), 0U);
  EXPECT_EQ(parsed.tensors[2].byte_length(), 0U);
}

TEST_F(SafetensorsHeader, AcceptsScalarAndHoles) {
  // A scalar (shape []) has one element; the 4 bytes between the tensors belong to nobody.
  const std::string header = R"({"scale":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
                             R"("w":{"dtype":"F16","shape":[2],"data_offsets":[8,12]}})";
  const auto parsed =
      read_safetensors_header(file_with(safetensors_bytes(header, std::string(16, '\0'))));
  ASSERT_EQ(parsed.tensors.size(), 2U);
  EXPECT_EQ(parsed.tensors[0].element_count(), 1U);
  EXPECT_EQ(parsed.tensors[1].data_begin, 8U);
}

TEST_F(SafetensorsHeader, AcceptsHeaderPaddedWithSpaces) {
  // Writers pad the JSON with spaces so the data section starts 8-byte aligned.
  std::string header = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  header.append(8 - (8 + header.size()) % 8, ' ');
  const auto parsed = read_safetensors_header(
      file_with(safetensors_bytes(header, std::string("\x00\x00\x80\x3F", 4))));
  EXPECT_EQ(parsed.json_bytes, header.size());
  EXPECT_EQ(parsed.data_section_offset() % 8, 0U);
  ASSERT_EQ(parsed.tensors.size(), 1U);
}

TEST_F(SafetensorsHeader, ReadsMetadata) {
  const std::string header =
      R"({"__metadata__":{"format":"pt","note":"x"},"w":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}})";
  const auto parsed = read_safetensors_header(file_with(safetensors_bytes(header, "\x80\x3F")));
  EXPECT_EQ(parsed.metadata, (std::map<std::string, std::string>{{"format", "pt"}, {"note", "x"}}));
  ASSERT_EQ(parsed.tensors.size(), 1U);
  EXPECT_EQ(parsed.tensors[0].name, "w");
}

TEST_F(SafetensorsHeader, ParsesFromTextWithoutAFile) {
  const std::string header = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  const auto parsed = parse_safetensors_header(header, 8 + header.size() + 4, "label.safetensors");
  ASSERT_EQ(parsed.tensors.size(), 1U);
  EXPECT_TRUE(throws_input_error(
      [&] { (void)parse_safetensors_header(header, 8 + header.size() + 2, "label.safetensors"); },
      {"label.safetensors", "tensor 'w'", "beyond the data section (2 bytes)"}));
}

}  // namespace
}  // namespace lineage
