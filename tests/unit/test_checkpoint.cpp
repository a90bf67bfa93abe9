// open_checkpoint on each accepted layout, and on the ways an index, a config or a set of shards
// can lie. Every rejection must name the file (and the tensor or key) at fault.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "safetensors_fixture.hpp"
#include "checkpoint/checkpoint.hpp"

namespace lineage {
namespace {

using test::throws_input_error;
using test::write_f32_file;
using test::write_file;

class Checkpoint : public ::testing::Test {
 protected:
  ::testing::AssertionResult rejects(const std::filesystem::path& path,
                                     const std::vector<std::string>& fragments) {
    return throws_input_error([&] { (void)open_checkpoint(path); }, fragments);
  }
  // Two shards: a and b in the first, c in the second.
  void write_two_shards() {
    write_f32_file(dir_ / "model-00001-of-00002.safetensors", {"a", "b"});
    write_f32_file(dir_ / "model-00002-of-00002.safetensors", {"c"});
  }
  std::filesystem::path write_index(const std::string& weight_map) {
    return write_file(dir_ / "model.safetensors.index.json",
                      R"({"metadata":{"total_size":24},"weight_map":)" + weight_map + "}");
  }
  std::vector<std::string> tensor_names(const checkpoint& opened) {
    std::vector<std::string> names;
    for (const auto& tensor : opened.tensors) names.push_back(tensor.name);
    return names;
  }

  test::temp_directory dir_;
};

// --- accepted layouts ----------------------------------------------------------------------------

TEST_F(Checkpoint, OpensSingleFile) {
  // The header is written out to check byte_offset: 8 + header length + data_begin.
  const std::string header = R"({"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[8,20]},)"
                             R"("v":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const auto path = write_file(dir_ / "weights.safetensors",
                               test::safetensors_bytes(header, std::string(20, '\0')));
  const checkpoint opened = open_checkpoint(path);
  EXPECT_EQ(opened.root, path);
  ASSERT_EQ(opened.files.size(), 1U);
  EXPECT_EQ(opened.files[0].path, path);
  EXPECT_EQ(opened.files[0].size, 8 + header.size() + 20);
  ASSERT_EQ(opened.tensors.size(), 2U);
  EXPECT_EQ(opened.tensors[0].name, "v");
  EXPECT_EQ(opened.tensors[1].name, "w");
  EXPECT_EQ(opened.tensors[1].type, dtype::bf16);
  EXPECT_EQ(opened.tensors[1].shape, (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(opened.tensors[1].element_count, 6U);
  EXPECT_EQ(opened.tensors[1].byte_length(), 12U);
  EXPECT_EQ(opened.tensors[1].byte_offset, 8 + header.size() + 8);
  EXPECT_EQ(opened.tensors[0].byte_offset, 8 + header.size());
  EXPECT_FALSE(opened.config_path.has_value());
  EXPECT_TRUE(opened.config.is_object());
  EXPECT_TRUE(opened.config.empty());
  EXPECT_EQ(opened.model_type, "");
}

TEST_F(Checkpoint, ReadsConfigBesideSingleFile) {
  const auto path = write_f32_file(dir_ / "model.safetensors", {"w"});
  write_file(dir_ / "config.json", R"({"model_type":"llama","hidden_size":4096})");
  const checkpoint opened = open_checkpoint(path);
  ASSERT_TRUE(opened.config_path.has_value());
  EXPECT_EQ(*opened.config_path, dir_ / "config.json");
  EXPECT_EQ(opened.model_type, "llama");
  EXPECT_EQ(opened.config.at("hidden_size"), 4096);
}

TEST_F(Checkpoint, OpensDirectoryWithModelSafetensors) {
  write_f32_file(dir_ / "model.safetensors", {"model.norm.weight", "lm_head.weight"});
  // Without an index, model.safetensors is the checkpoint; other files beside it are not.
  write_f32_file(dir_ / "adapter_model.safetensors", {"lora_A"});
  const checkpoint opened = open_checkpoint(dir_.path());
  ASSERT_EQ(opened.files.size(), 1U);
  EXPECT_EQ(opened.files[0].path.filename(), "model.safetensors");
  EXPECT_EQ(tensor_names(opened),
            (std::vector<std::string>{"lm_head.weight", "model.norm.weight"}));
}

TEST_F(Checkpoint, OpensShardedDirectoryWithIndex) {
  write_two_shards();
  write_index(R"({"c":"model-00002-of-00002.safetensors","a":"model-00001-of-00002.safetensors",)"
              R"("b":"./model-00001-of-00002.safetensors"})");
  write_file(dir_ / "config.json", R"({"model_type":"qwen2","num_hidden_layers":2})");
  const checkpoint opened = open_checkpoint(dir_.path());
  ASSERT_EQ(opened.files.size(), 2U);
  EXPECT_EQ(opened.files[0].path.filename(), "model-00001-of-00002.safetensors");
  EXPECT_EQ(opened.files[1].path.filename(), "model-00002-of-00002.safetensors");
  EXPECT_EQ(tensor_names(opened), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(opened.tensors[2].file_index, 1U);
  EXPECT_EQ(opened.tensors[1].file_index, 0U);
  // b is the second tensor of the first file: 8 bytes into its data section.
  const std::uint64_t first_header = opened.files[0].size - 8 - 16;
  EXPECT_EQ(opened.tensors[1].byte_offset, 8 + first_header + 8);
  EXPECT_EQ(opened.model_type, "qwen2");
}

TEST_F(Checkpoint, OpensCompleteShardSetWithoutIndex) {
  write_two_shards();
  const checkpoint opened = open_checkpoint(dir_.path());
  EXPECT_EQ(opened.files.size(), 2U);
  EXPECT_EQ(tensor_names(opened), (std::vector<std::string>{"a", "b", "c"}));
}

// --- rejected paths and directories --------------------------------------------------------------

TEST_F(Checkpoint, RejectsMissingPath) {
  EXPECT_TRUE(
      rejects(dir_ / "nowhere", {(dir_ / "nowhere").string(), "no such file or directory"}));
}

TEST_F(Checkpoint, RejectsDirectoryWithoutSafetensors) {
  write_file(dir_ / "config.json", "{}");
  EXPECT_TRUE(rejects(dir_.path(), {dir_.path().string(), "no .safetensors files"}));
}

TEST_F(Checkpoint, RejectsFileThatIsNotSafetensors) {
  const auto path = write_file(dir_ / "config.json", "{}");
  EXPECT_TRUE(rejects(path, {path.string(), "not a .safetensors file"}));
}

TEST_F(Checkpoint, RejectsIncompleteShardSetWithoutIndex) {
  write_f32_file(dir_ / "model-00001-of-00003.safetensors", {"a"});
  write_f32_file(dir_ / "model-00003-of-00003.safetensors", {"c"});
  EXPECT_TRUE(
      rejects(dir_.path(), {dir_.path().string(), "incomplete", "shard 2 of 3 is missing"}));
}

TEST_F(Checkpoint, RejectsShardNumberOutsideItsSet) {
  write_f32_file(dir_ / "model-00004-of-00003.safetensors", {"a"});
  EXPECT_TRUE(rejects(dir_.path(), {"model-00004-of-00003.safetensors", "outside 1..3"}));
}

TEST_F(Checkpoint, RejectsDuplicateTensorAcrossFilesWithoutIndex) {
  write_f32_file(dir_ / "first.safetensors", {"a", "shared"});
  write_f32_file(dir_ / "second.safetensors", {"shared"});
  EXPECT_TRUE(rejects(dir_.path(), {"first.safetensors", "second.safetensors", "tensor 'shared'"}));
}

TEST_F(Checkpoint, NamesTheShardWithABrokenHeader) {
  write_f32_file(dir_ / "model-00001-of-00002.safetensors", {"a"});
  const auto broken = write_file(
      dir_ / "model-00002-of-00002.safetensors",
      test::safetensors_bytes(R"({"c":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})",
                              std::string(8, '\0')));
  EXPECT_TRUE(rejects(dir_.path(), {broken.string(), "tensor 'c'", "unsupported dtype 'I64'"}));
}

// --- rejected indexes ----------------------------------------------------------------------------

TEST_F(Checkpoint, RejectsIndexNamingMissingFile) {
  write_two_shards();
  const auto index = write_index(
      R"({"a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors",)"
      R"("c":"model-00002-of-00002.safetensors","d":"model-00003-of-00003.safetensors"})");
  EXPECT_TRUE(rejects(dir_.path(), {index.string(), "tensor 'd'",
                                    "model-00003-of-00003.safetensors", "does not exist"}));
}

TEST_F(Checkpoint, RejectsIndexTensorAbsentFromItsFile) {
  write_two_shards();
  write_index(
      R"({"a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors",)"
      R"("c":"model-00002-of-00002.safetensors","ghost":"model-00002-of-00002.safetensors"})");
  EXPECT_TRUE(rejects(
      dir_.path(), {"model-00002-of-00002.safetensors", "tensor 'ghost'", "is not in this file"}));
}

TEST_F(Checkpoint, RejectsTensorMissingFromIndex) {
  write_two_shards();
  const auto index = write_index(
      R"({"a":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"})");
  EXPECT_TRUE(rejects(dir_.path(), {"model-00001-of-00002.safetensors", "tensor 'b'",
                                    "not listed in " + index.string()}));
}

TEST_F(Checkpoint, RejectsTensorInAnotherFileThanTheIndexSays) {
  write_two_shards();
  write_index(R"({"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors",)"
              R"("c":"model-00002-of-00002.safetensors"})");
  EXPECT_TRUE(rejects(dir_.path(), {"model-00001-of-00002.safetensors", "tensor 'b'",
                                    "places it in", "model-00002-of-00002.safetensors"}));
}

TEST_F(Checkpoint, RejectsParentDirectoryInIndex) {
  write_f32_file(dir_ / "inner" / "model.safetensors", {"a"});
  write_f32_file(dir_ / "x.safetensors", {"b"});
  const auto index =
      write_file(dir_ / "inner" / "model.safetensors.index.json",
                 R"({"weight_map":{"a":"model.safetensors","b":"../x.safetensors"}})");
  EXPECT_TRUE(
      rejects(dir_ / "inner", {index.string(), "tensor 'b'", "'../x.safetensors'", "'..'"}));
}

TEST_F(Checkpoint, RejectsAbsolutePathInIndex) {
  const auto elsewhere = write_f32_file(dir_ / "elsewhere.safetensors", {"a"});
  const auto index = write_file(dir_ / "inner" / "model.safetensors.index.json",
                                R"({"weight_map":{"a":")" + elsewhere.string() + R"("}})");
  EXPECT_TRUE(rejects(dir_ / "inner", {index.string(), "tensor 'a'", "absolute"}));
}

// Issue 18, defect 10: the "only files beside it" check was lexical, so a symlinked directory
// component (root -> /) in a weight_map name opened a file outside the model directory.
TEST_F(Checkpoint, RejectsADirectoryComponentInIndexEvenThroughASymlink) {
  write_f32_file(dir_ / "inner" / "model.safetensors", {"a"});
  write_f32_file(dir_ / "outside" / "x.safetensors", {"b"});
  std::filesystem::create_directory_symlink(dir_ / "outside", dir_ / "inner" / "root");
  const auto index = write_file(dir_ / "inner" / "model.safetensors.index.json",
                                R"({"weight_map":{"a":"model.safetensors","b":"root/x.safetensors"}})");
  EXPECT_TRUE(rejects(dir_ / "inner", {index.string(), "tensor 'b'", "'root/x.safetensors'", "directory part"}));
  // A shard that is itself a symlink (the Hugging Face cache links snapshot files to blobs) is read.
  write_f32_file(dir_ / "blobs" / "0123abcd", {"b"});
  std::filesystem::create_symlink(dir_ / "blobs" / "0123abcd", dir_ / "inner" / "model-b.safetensors");
  write_file(dir_ / "inner" / "model.safetensors.index.json",
             R"({"weight_map":{"a":"model.safetensors","b":"model-b.safetensors"}})");
  EXPECT_EQ(open_checkpoint(dir_ / "inner").tensors.size(), 2u);
}

TEST_F(Checkpoint, RejectsTensorListedTwiceInIndex) {
  write_two_shards();
  const auto index = write_index(
      R"({"a":"model-00001-of-00002.safetensors","a":"model-00002-of-00002.safetensors"})");
  EXPECT_TRUE(rejects(dir_.path(), {index.string(), "weight_map lists tensor 'a' twice"}));
}

TEST_F(Checkpoint, RejectsIndexWithoutWeightMap) {
  write_two_shards();
  const auto index = write_file(dir_ / "model.safetensors.index.json", R"({"metadata":{}})");
  EXPECT_TRUE(rejects(dir_.path(), {index.string(), "no weight_map"}));
  write_file(index, R"({"weight_map":["a"]})");
  EXPECT_TRUE(rejects(dir_.path(), {index.string(), "weight_map is an array, not an object"}));
  write_file(index, R"({"weight_map":{"a":7}})");
  EXPECT_TRUE(rejects(dir_.path(), {index.string(), "tensor 'a'", "not a string"}));
  write_file(index, R"({"weight_map":)");
  EXPECT_TRUE(rejects(dir_.path(), {index.string(), "invalid JSON"}));
}

// --- rejected configs ----------------------------------------------------------------------------

TEST_F(Checkpoint, RejectsBrokenConfig) {
  write_f32_file(dir_ / "model.safetensors", {"w"});
  const auto config = write_file(dir_ / "config.json", R"({"model_type": "llama",)");
  EXPECT_TRUE(rejects(dir_.path(), {config.string(), "invalid JSON"}));
  write_file(config, R"(["llama"])");
  EXPECT_TRUE(rejects(dir_.path(), {config.string(), "not an object"}));
  write_file(config, R"({"model_type":"llama","model_type":"mistral"})");
  EXPECT_TRUE(rejects(dir_.path(), {config.string(), "duplicate key 'model_type'"}));
}

TEST_F(Checkpoint, RejectsModelTypeThatIsNotAString) {
  write_f32_file(dir_ / "model.safetensors", {"w"});
  const auto config = write_file(dir_ / "config.json", R"({"model_type":["llama"]})");
  EXPECT_TRUE(rejects(dir_.path(), {config.string(), "model_type", "not a string"}));
}

TEST_F(Checkpoint, RejectsConfigThatIsNotAFile) {
  const auto path = write_f32_file(dir_ / "model.safetensors", {"w"});
  std::filesystem::create_directory(dir_ / "config.json");
  EXPECT_TRUE(rejects(path, {(dir_ / "config.json").string(), "not a regular file"}));
}

}  // namespace
}  // namespace lineage
