#pragma once
// A registered model's fingerprint: what `lineage index` keeps of a checkpoint so that `lineage
// search` can test a query against it without the weights (docs/HDF5_SCHEMA.md, "Fingerprint
// files"). One typed model that the builder fills, the HDF5 file stores and every search reads.
//
// Two sketches, both keyed by token strings rather than token ids, so that vocabularies that order
// or extend their tokens differently still meet on the tokens they share:
//  - token rows: the embedding rows of the tokens whose key (XXH3 of the token's bytes) is among
//    the `row` smallest of the vocabulary (a bottom-k sample: two vocabularies sharing most tokens
//    share most of their samples), in ascending key order;
//  - attention in the token frame: for every attention layer, q, k and v's rows read in the frame
//    of the first `frame` sampled tokens, F = W · diag(g) · E_frameᵀ (g: the layer's input norm).
//    Any map of the residual stream applied to every tensor (a permutation, sign flips, a rotation,
//    norms rescaled or folded into the readers) cancels in F, while F's rows keep the heads' order:
//    the heads' symmetry still moves them, so their null stays exact.
#include <cstdint>
#include <string>
#include <vector>

namespace lineage {

inline constexpr std::int64_t fingerprint_format_version = 1;

struct fingerprint_file_digest {
  std::string path;  // relative to the model directory
  std::uint64_t size = 0;
  std::string sha256;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & path & size & sha256;
  }
};

// One attention layer's projections in the token frame: rows × frame values, row-major.
struct attention_sketch {
  std::string label;  // "layer 3" (with a block prefix such as "mtp." when there is one)
  std::int64_t layer = -1;
  std::uint64_t heads = 0, kv_heads = 0, head_dim = 0;
  std::vector<float> q, k, v;  // q: heads·head_dim rows; k, v: kv_heads·head_dim rows

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & label & layer & heads & kv_heads & head_dim & q & k & v;
  }
};

struct model_fingerprint {
  std::string name;          // the model directory's name
  std::string model_type;    // config.json model_type ("" when absent)
  std::string config_json;   // config.json as read (compact form)
  std::string tool_version;  // lineage version that wrote it
  std::string token_keys;    // "bytes" (keys of the tokens' bytes) or "ids" (no tokenizer.json beside)
  std::uint64_t vocabulary_size = 0;
  std::uint64_t checkpoint_bytes = 0;
  std::uint64_t parameters = 0;
  std::vector<fingerprint_file_digest> files;

  std::uint64_t hidden = 0;              // width of a token row
  std::vector<std::uint64_t> row_keys;   // ascending, unique
  std::vector<float> rows;               // row_keys.size() × hidden
  std::uint64_t frame = 0;               // the frame's tokens: row_keys[0 … frame)
  std::vector<attention_sketch> layers;  // in (prefix, layer) order
};

// What identifies the bytes a fingerprint came from: SHA-256 over the files' digests in path order.
[[nodiscard]] std::string checkpoint_digest(const std::vector<fingerprint_file_digest>& files);

}  // namespace lineage
