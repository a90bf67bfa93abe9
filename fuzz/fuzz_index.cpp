// model.safetensors.index.json beside two small shards (checkpoint/checkpoint): the weight map, the
// names it gives, and its agreement with the shards' headers.
#include <cstring>

#include "checkpoint/checkpoint.hpp"
#include "fuzz/fuzz_support.hpp"

namespace {

// A safetensors file of one F32 tensor `name` of `count` elements.
std::string shard_bytes(const std::string& name, std::size_t count) {
  std::string header = "{\"" + name + "\":{\"dtype\":\"F32\",\"shape\":[" + std::to_string(count) +
                       "],\"data_offsets\":[0," + std::to_string(4 * count) + "]}}";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string bytes(8, '\0');
  const std::uint64_t length = header.size();
  std::memcpy(bytes.data(), &length, 8);
  return bytes + header + std::string(4 * count, '\0');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool shards_written = [] {
    (void)lineage::fuzz::scratch_file("model-00001-of-00002.safetensors", shard_bytes("model.embed_tokens.weight", 8));
    (void)lineage::fuzz::scratch_file("model-00002-of-00002.safetensors", shard_bytes("model.norm.weight", 4));
    return true;
  }();
  (void)shards_written;
  (void)lineage::fuzz::scratch_file("model.safetensors.index.json", lineage::fuzz::text_of(data, size));
  lineage::fuzz::expect_success_or_input_error([] { (void)lineage::open_checkpoint(lineage::fuzz::scratch_directory()); });
  return 0;
}
