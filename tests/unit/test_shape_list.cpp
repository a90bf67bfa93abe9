// Shape lists (checkpoint/shape_list.hpp) and header-only checkpoints, the inputs of `lineage plan`.
#include <gtest/gtest.h>

#include <string>

#include "safetensors_fixture.hpp"
#include "checkpoint/checkpoint.hpp"
#include "checkpoint/shape_list.hpp"

namespace lineage::test {
namespace {

const std::string good = R"({"model_type": "llama", "source": "test", "config": {"hidden_size": 4},
  "tensors": [{"name": "model.norm.weight", "dtype": "F32", "shape": [4]},
              {"name": "model.embed_tokens.weight", "dtype": "BF16", "shape": [10, 4]}]})";

TEST(CheckpointShapeList, ReadsGoodFile) {
  const temp_directory dir;
  const auto path = write_file(dir / "shapes.json", good);
  EXPECT_TRUE(is_shape_list_path(path));
  const checkpoint c = read_shape_list(path);
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.config.at("hidden_size"), 4);
  EXPECT_EQ(c.config.at("model_type"), "llama");
  ASSERT_EQ(c.tensors.size(), 2u);
  EXPECT_EQ(c.tensors[0].name, "model.embed_tokens.weight");  // sorted by name
  EXPECT_EQ(c.tensors[0].type, dtype::bf16);
  EXPECT_EQ(c.tensors[0].element_count, 40u);
  EXPECT_EQ(c.tensors[1].byte_offset, c.tensors[0].byte_offset + 80);
  ASSERT_EQ(c.files.size(), 1u);
  EXPECT_EQ(c.files[0].size, c.tensors[1].byte_offset + 16);
}

struct malformed_case {
  const char* label;
  std::string text;
  std::vector<std::string> fragments;
};

TEST(CheckpointShapeList, RejectsEachMalformedCase) {
  const std::string t = R"({"name": "w", "dtype": "F32", "shape": [2]})";
  const std::vector<malformed_case> cases = {
      {"invalid JSON", "{", {}},
      {"not an object", "[]", {"not an object"}},
      {"unknown top key", R"({"model_type": "x", "tensors": [)" + t + R"(], "colour": 1})", {"'colour'"}},
      {"duplicate key", R"({"model_type": "x", "model_type": "y", "tensors": [)" + t + "]}", {"'model_type'"}},
      {"no model_type", R"({"tensors": [)" + t + "]}", {"'model_type'"}},
      {"model_type not a string", R"({"model_type": 3, "tensors": [)" + t + "]}", {"model_type", "not a string"}},
      {"config not an object", R"({"model_type": "x", "config": [], "tensors": [)" + t + "]}", {"config", "not an object"}},
      {"config disagrees", R"({"model_type": "x", "config": {"model_type": "y"}, "tensors": [)" + t + "]}",
       {"config > model_type"}},
      {"source not a string", R"({"model_type": "x", "source": 1, "tensors": [)" + t + "]}", {"source"}},
      {"no tensors", R"({"model_type": "x"})", {"'tensors'"}},
      {"tensors not an array", R"({"model_type": "x", "tensors": {}})", {"tensors", "not an array"}},
      {"tensors empty", R"({"model_type": "x", "tensors": []})", {"tensors", "empty"}},
      {"tensor not an object", R"({"model_type": "x", "tensors": [1]})", {"tensors[0]", "not an object"}},
      {"tensor unknown key", R"({"model_type": "x", "tensors": [{"name": "w", "dtype": "F32", "shape": [2], "x": 1}]})",
       {"tensors[0]", "'x'"}},
      {"no name", R"({"model_type": "x", "tensors": [{"dtype": "F32", "shape": [2]}]})", {"tensors[0]", "'name'"}},
      {"name not a string", R"({"model_type": "x", "tensors": [{"name": 1, "dtype": "F32", "shape": [2]}]})",
       {"tensors[0]", "'name'"}},
      {"empty name", R"({"model_type": "x", "tensors": [{"name": "", "dtype": "F32", "shape": [2]}]})",
       {"tensors[0]", "'name'", "empty"}},
      {"no dtype", R"({"model_type": "x", "tensors": [{"name": "w", "shape": [2]}]})", {"tensors[0]", "'dtype'"}},
      {"bad dtype", R"({"model_type": "x", "tensors": [{"name": "w", "dtype": "I64", "shape": [2]}]})",
       {"tensors[0] ('w')", "'I64'"}},
      {"no shape", R"({"model_type": "x", "tensors": [{"name": "w", "dtype": "F32"}]})", {"tensors[0]", "'shape'"}},
      {"shape not an array", R"({"model_type": "x", "tensors": [{"name": "w", "dtype": "F32", "shape": 2}]})",
       {"tensors[0] ('w')", "'shape'", "not an array"}},
      {"negative extent", R"({"model_type": "x", "tensors": [{"name": "w", "dtype": "F32", "shape": [-2]}]})",
       {"tensors[0] ('w')", "'shape'[0]", "negative"}},
      {"fractional extent", R"({"model_type": "x", "tensors": [{"name": "w", "dtype": "F32", "shape": [2.5]}]})",
       {"tensors[0] ('w')", "'shape'[0]"}},
      {"overflow", R"({"model_type": "x", "tensors": [{"name": "w", "dtype": "F32", "shape": [4294967296, 4294967296]}]})",
       {"tensors[0] ('w')", "overflows"}},
      {"duplicate tensor", R"({"model_type": "x", "tensors": [)" + t + "," + t + "]}", {"tensors[1]", "'w'", "twice"}},
  };
  const temp_directory dir;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    const auto path = write_file(dir / "bad.json", c.text);
    auto fragments = c.fragments;
    fragments.insert(fragments.begin(), path.string());
    EXPECT_TRUE(throws_input_error([&] { (void)read_shape_list(path); }, fragments));
  }
}

// A header-only file (the data section cut off) opens for planning with the complete file's size,
// and is still rejected by the ordinary reader.
TEST(CheckpointHeaderOnly, OpensWhenAllowed) {
  const temp_directory dir;
  const std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[3],"data_offsets":[8,14]}})";
  const auto path = write_file(dir / "model.safetensors", safetensors_bytes(header));
  EXPECT_TRUE(throws_input_error([&] { (void)open_checkpoint(path); }, {path.string(), "beyond the data section"}));
  const checkpoint c = open_checkpoint(path, {.allow_header_only = true});
  ASSERT_EQ(c.tensors.size(), 2u);
  EXPECT_EQ(c.files.at(0).size, 8 + header.size() + 14);
  EXPECT_EQ(c.tensors[1].byte_offset, 8 + header.size() + 8);
}

TEST(CheckpointHeaderOnly, StillValidatesTheHeader) {
  const temp_directory dir;
  const auto overlap = write_file(dir / "overlap.safetensors",
                                  safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})"));
  EXPECT_TRUE(throws_input_error([&] { (void)open_checkpoint(overlap, {.allow_header_only = true}); }, {overlap.string()}));
  const auto size = write_file(dir / "size.safetensors",
                               safetensors_bytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})"));
  EXPECT_TRUE(throws_input_error([&] { (void)open_checkpoint(size, {.allow_header_only = true}); }, {size.string()}));
  const auto cut = write_file(dir / "cut.safetensors", length_prefix(100) + "{}");
  EXPECT_TRUE(throws_input_error([&] { (void)open_checkpoint(cut, {.allow_header_only = true}); }, {cut.string()}));
}

}  // namespace
}  // namespace lineage::test
