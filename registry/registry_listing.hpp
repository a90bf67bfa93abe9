#pragma once
// A registry is a directory of fingerprint files, NAME.fingerprint.h5, and registry.json, the list
// of its members with the SHA-256 of each fingerprint file and of the checkpoint it came from
// (docs/HDF5_SCHEMA.md, "Registries"). Adding a member rewrites the list only: no other
// fingerprint is read or recomputed. Jobs of one Slurm array may add members at once: the list is
// rewritten under an exclusive lock (registry.lock, fcntl) and replaced atomically.
#include <filesystem>
#include <string>
#include <vector>

namespace lineage {

struct registry_entry {
  std::string name;        // the model's name, unique in the registry
  std::string file;        // NAME.fingerprint.h5, inside the registry
  std::string sha256;      // of that file
  std::string checkpoint;  // checkpoint_digest of the model's files
  std::string source;      // the model directory indexed (absolute), where its weights were; may be ""
};

[[nodiscard]] std::string fingerprint_file_name(const std::string& model_name);

// registry.json's members, in name order. Throws input_error naming the file and key when it is
// missing or malformed: a member without a name or digest, a file name that leaves the directory,
// a name listed twice.
[[nodiscard]] std::vector<registry_entry> read_registry(const std::filesystem::path& directory);

// Adds `entry` (replacing a member of the same name) under the lock.
void add_to_registry(const std::filesystem::path& directory, const registry_entry& entry);

}  // namespace lineage
