#pragma once
// A fingerprint as a sealed HDF5 file (docs/HDF5_SCHEMA.md, "Fingerprint files") and back. The
// file is untrusted input when read: every count is checked against the others, every value must
// be finite, and anything else is an input_error naming the file and the object.
#include <filesystem>
#include <string>
#include <vector>

#include "registry/fingerprint.hpp"

namespace lineage {

// The sealed image of `f` (write it with write_file_atomically).
[[nodiscard]] std::string fingerprint_image(const model_fingerprint& f, const std::string& label);

[[nodiscard]] model_fingerprint read_fingerprint(const std::filesystem::path& path);
// The same from the file's bytes already read (a registry member, whose SHA-256 was checked on them).
[[nodiscard]] model_fingerprint read_fingerprint_bytes(const std::string& file_bytes, const std::string& label);

// A group's columns path, size and sha256 (one row per file), and back: the columns of equal length,
// each digest 64 lower-case hex digits. Shared by fingerprint files and search records.
class h5_group;
class h5_reader;
void write_file_digests(const h5_group& group, const std::vector<fingerprint_file_digest>& files);
[[nodiscard]] std::vector<fingerprint_file_digest> read_file_digests(const h5_reader& in, const std::string& group);

}  // namespace lineage
