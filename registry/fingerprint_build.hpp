#pragma once
// Building a fingerprint from a checkpoint (`lineage index`). Every rank opens the same source; the
// files' digests and the layers' sketches are independent pieces that ranks can share out, and the
// pieces do not depend on which rank computed them (one function of the bytes each).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/checkpoint.hpp"
#include "registry/fingerprint.hpp"
#include "registry/token_keys.hpp"

namespace lineage {

struct index_options {
  std::size_t rows = 1024;   // token rows sampled from the embedding
  // Of those, the first are the attention sketches' frame; 0: the most of at most 64 (at least 16)
  // that keeps the fingerprint within 0.1 % of the checkpoint's bytes (auto_frame).
  std::size_t frame = 0;
  std::optional<std::filesystem::path> rules_dir;  // --arch-dir
};

// Where one attention layer's tensors are: a tensor and a range of its rows (a fused tensor's part).
struct tensor_rows {
  std::size_t tensor = 0;  // into checkpoint::tensors
  std::uint64_t row_begin = 0, row_end = 0;
};
struct attention_source {
  std::string label;
  std::int64_t layer = -1;
  tensor_rows q, k, v;
  std::optional<tensor_rows> norm;  // the input norm the projections read
  std::uint64_t heads = 0, kv_heads = 0, head_dim = 0;
};

struct index_source {
  checkpoint model;
  std::string name;
  std::string token_keys;  // "bytes" or "ids"
  std::uint64_t vocabulary_size = 0;
  tensor_rows embedding;   // the token embedding (or the output head when there is none)
  std::uint64_t hidden = 0;
  std::vector<keyed_token> tokens;  // the sample, ascending keys
  std::size_t frame = 0;
  std::vector<attention_source> layers;
};

// Opens the checkpoint and its tokenizer and finds the tensors the sketches read. Throws
// input_error naming the file, tensor or key (no token embedding; a broken tokenizer.json).
[[nodiscard]] index_source open_index_source(const std::filesystem::path& model, const index_options& options);

// The frame `options.frame == 0` picks: the largest frame ≤ 64 whose fingerprint (4 bytes a value:
// tokens × hidden token rows, frame values per attention row) fits in 0.1 % of `checkpoint_bytes`,
// never below 16 (small models cannot meet the budget and keep their power).
[[nodiscard]] std::size_t auto_frame(std::uint64_t checkpoint_bytes, std::uint64_t token_values,
                                     std::uint64_t attention_rows);

// The sampled tokens' embedding rows (tokens × hidden). Throws input_error naming the tensor when a
// value is not finite.
[[nodiscard]] std::vector<float> token_rows(const index_source& source);

// One layer's q, k and v in the frame of `rows`' first source.frame rows.
[[nodiscard]] attention_sketch sketch_layer(const index_source& source, const std::vector<float>& rows,
                                            std::size_t layer);

// SHA-256 of one checkpoint file.
[[nodiscard]] fingerprint_file_digest digest_file(const index_source& source, std::size_t file);

// The fingerprint of the pieces (file digests and layers in source order).
[[nodiscard]] model_fingerprint assemble_fingerprint(const index_source& source, std::vector<float> rows,
                                                     std::vector<fingerprint_file_digest> files,
                                                     std::vector<attention_sketch> layers);

// Every step above in this process, in order: a query fingerprinted by `lineage search`, a bench's
// registry. The same values as the MPI job gives.
[[nodiscard]] model_fingerprint fingerprint_in_process(const std::filesystem::path& model, const index_options& options);

}  // namespace lineage
