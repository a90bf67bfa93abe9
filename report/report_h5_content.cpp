// The manifest's hashes in report.h5: per model, the tensor, range and file tables
// (docs/HDF5_SCHEMA.md, /manifest/model_a/tensors and the sections after it).
#include "report/h5_columns.hpp"

namespace lineage {

void write_content(const h5_group& model, const content_manifest& content, const side_content& side) {
  using u64 = std::uint64_t;
  if (content.digests) {
    const h5_group tensors = model.create_group("tensors");
    const auto& rows = side.tensors;
    using row = manifest_tensor;
    tensors.write_column("name", column(rows, [](const row& r) { return r.name; }));
    tensors.write_column("dtype", column(rows, [](const row& r) { return std::string(dtype_name(r.type)); }));
    tensors.write_column("shape", column(rows, [](const row& r) { return shape_text(r.shape); }));
    tensors.write_column("file",
                         column(rows, [&](const row& r) { return side.files.at(side.weight_files.at(r.file)).name; }));
    tensors.write_column("data_offset", column(rows, [](const row& r) -> u64 { return r.byte_offset; }));
    tensors.write_column("bytes", column(rows, [](const row& r) -> u64 { return r.bytes; }));
    tensors.write_column("first_range", column(rows, [](const row& r) -> u64 { return r.first_range; }));
    tensors.write_column("ranges", column(rows, [](const row& r) -> u64 { return r.range_count; }));
    tensors.write_column("xxh3", std::span<const u64>(side.tensor_digests));

    const h5_group ranges = model.create_group("ranges");
    using range = hashed_range;
    ranges.write_column("tensor", column(side.ranges, [](const range& r) -> u64 { return r.tensor; }));
    ranges.write_column("offset", column(side.ranges, [](const range& r) -> u64 { return r.offset; }));
    ranges.write_column("length", column(side.ranges, [](const range& r) -> u64 { return r.length; }));
    ranges.write_column("xxh3", std::span<const u64>(side.range_hashes));
  }
  const h5_group files = model.create_group("checkpoint_files");
  using file = manifest_file;
  files.write_column("name", column(side.files, [](const file& f) { return f.name; }));
  files.write_column("size", column(side.files, [](const file& f) -> u64 { return f.size; }));
  files.write_column("sha256", side.sha256);
}

}  // namespace lineage
