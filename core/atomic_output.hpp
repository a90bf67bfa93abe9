#pragma once
// Outputs are written under a temporary name beside their final path and renamed only when they
// are complete, so a crashed or failed job never leaves a report that looks finished.
#include <filesystem>
#include <string>
#include <string_view>

namespace lineage {

class atomic_output {
 public:
  explicit atomic_output(std::filesystem::path final_path);
  atomic_output(const atomic_output&) = delete;
  atomic_output& operator=(const atomic_output&) = delete;
  ~atomic_output();  // removes the temporary file unless commit() succeeded

  // Where to write now.
  [[nodiscard]] const std::filesystem::path& temporary_path() const noexcept { return temporary_; }
  [[nodiscard]] const std::filesystem::path& final_path() const noexcept { return final_; }
  // Writes `bytes` to the temporary file (write_file); an error names the final path.
  void write(std::string_view bytes) const;
  // Renames the temporary file to the final path; throws input_error when that fails.
  void commit();

 private:
  std::filesystem::path final_;
  std::filesystem::path temporary_;
  bool committed_ = false;
};

// Creates or truncates `path` and writes `bytes` to it, synced to disk. Throws input_error naming
// the file (`shown`, when given: the final name of a temporary file) and the system's reason (a
// full disk, for one) on any failure.
void write_file(const std::filesystem::path& path, std::string_view bytes,
                const std::filesystem::path& shown = {});

// write_file through an atomic_output: `path` appears only complete; errors name `path`.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

// Creates `directory` if needed and checks that a file can be created in it; throws input_error
// naming the directory when not. Called before any work so an unwritable output fails early.
void ensure_writable_directory(const std::filesystem::path& directory);

}  // namespace lineage
