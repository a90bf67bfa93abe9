#pragma once
// The plan's part of the reproducibility manifest: what the job hashes of each model, so that the
// report can say exactly which bytes it was computed from (docs/ARCHITECTURE.md, "The manifest").
//
// Every byte of every tensor of A and B lies in a hashed range: a block's bytes of A, and of B when
// B is read in place (hashed by the block unit as it reads them, block_reader::compute), and every
// byte no block reads (unpaired tensors, B read through an alignment, rows outside a view) in the
// ranges of extra digest units, at most block_elements elements each. The ranges come from the plan
// alone, so they and every hash do not depend on the rank count. With sha256, every file of the
// checkpoint (checkpoint_files_of) is hashed whole by a unit of its own.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "checkpoint/checkpoint.hpp"
#include "core/dtype.hpp"
#include "shard/work_block.hpp"

namespace lineage {

struct content_options {
  bool digests = true;  // per-range and per-tensor XXH3 of both models
  bool sha256 = false;  // SHA-256 of every checkpoint file (lineage compare --sha256)

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & digests & sha256;
  }
};

// One tensor of a checkpoint, as the manifest records it.
struct manifest_tensor {
  std::string name;
  dtype type = dtype::f32;
  std::vector<std::uint64_t> shape;
  std::uint32_t file = 0;            // the checkpoint's file index (model_content::weight_files maps it)
  std::uint64_t byte_offset = 0;     // absolute offset of its data in that file
  std::uint64_t bytes = 0;
  std::uint64_t first_range = 0;     // its ranges are [first_range, first_range + range_count)
  std::uint64_t range_count = 0;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & name & type & shape & file & byte_offset & bytes & first_range & range_count;
  }
};

// Bytes [offset, offset + length) of a tensor's data.
struct hashed_range {
  std::uint32_t tensor = 0;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & tensor & offset & length;
  }
};

// A file of the checkpoint: `name` relative to the model directory (the directory holding the file,
// for a model given as one .safetensors file).
struct manifest_file {
  std::string name;
  std::string path;  // as the job opens it
  std::uint64_t size = 0;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & name & path & size;
  }
};

struct model_content {
  std::vector<manifest_tensor> tensors;  // the checkpoint's order (by name)
  std::vector<hashed_range> ranges;      // by tensor, then offset (then length)
  std::vector<manifest_file> files;      // by name
  std::vector<std::uint32_t> weight_files;  // checkpoint file index → index into `files`

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & tensors & ranges & files & weight_files;
  }
};

// A unit that hashes what no block does: range `range` of side `side` (0 = A, 1 = B), or with
// `whole_file` the SHA-256 of file `range` of that side.
struct content_unit {
  std::uint8_t side = 0;
  bool whole_file = false;
  std::uint64_t index = 0;
  std::uint64_t bytes = 0;  // what it reads

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & side & whole_file & index & bytes;
  }
};

inline constexpr std::int64_t no_range = -1;

struct content_plan {
  content_options options;
  model_content a, b;
  // Per block of the plan: the range of A (of B) its hashes are recorded as, or no_range (B read
  // through an alignment, or a range another block already records).
  std::vector<std::int64_t> block_range_a, block_range_b;
  std::vector<content_unit> units;
  std::vector<std::uint32_t> unit_rank;

  [[nodiscard]] const model_content& side(int s) const { return s == 0 ? a : b; }

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & options & a & b & block_range_a & block_range_b & units & unit_rank;
  }
};

// What a rank found: range `range` of side `side` hashes to `hash` (XXH3-64).
struct range_hash {
  std::uint8_t side = 0;
  std::uint64_t range = 0;
  std::uint64_t hash = 0;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & side & range & hash;
  }
};

// File `file` of side `side` has SHA-256 `sha256` (64 hex digits).
struct file_hash {
  std::uint8_t side = 0;
  std::uint64_t file = 0;
  std::string sha256;

  template <class Archive>
  void serialize(Archive& archive, unsigned /*version*/) {
    archive & side & file & sha256;
  }
};

// An interval of bytes.
struct byte_span {
  std::uint64_t offset = 0, length = 0;
  bool operator==(const byte_span&) const = default;
};

// The bytes of [0, size) that no span of `covered` (in any order, overlaps allowed) holds, cut
// into pieces of at most `piece` bytes (each gap from its start; the last piece of a gap may be
// shorter), in offset order.
std::vector<byte_span> uncovered_pieces(std::vector<byte_span> covered, std::uint64_t size, std::uint64_t piece);

// The directory a checkpoint's files are named relative to: its root, or the directory holding it
// when the root is one .safetensors file ("." for a bare file name).
std::filesystem::path model_directory(const checkpoint& model);

// The files a manifest lists for a checkpoint, by name: its safetensors files, and those of
// manifest_side_files() that exist in its directory.
std::vector<manifest_file> checkpoint_files_of(const checkpoint& model);

// The names beside the weights that belong to a model: the index, config.json, the generation
// config and the tokenizer files.
const std::vector<std::string>& manifest_side_files();

}  // namespace lineage
