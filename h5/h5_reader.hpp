#pragma once
// Reading back a report.h5 (a reference-panel comparison run as a job of its own). The file is
// input: every call is checked and a failure is an input_error naming the file and the object
// ("out/report.h5: /tensors/pearson: missing"), never an HDF5 error stack. The file is read whole
// and its seal (h5/h5_seal.hpp) checked before libhdf5 parses those bytes from memory.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "h5/h5_file.hpp"

namespace lineage {

class h5_reader {
 public:
  // Opens `path` read-only. Throws input_error when it is missing, unsealed, damaged or altered
  // (its seal does not match), or not an HDF5 file.
  static h5_reader open(const std::filesystem::path& path);
  // The same from a whole file's bytes already read (`label` names it in errors).
  static h5_reader open_bytes(const std::string& file_bytes, const std::string& label);

  [[nodiscard]] const std::string& label() const noexcept { return label_; }
  // Whether the group or dataset `object` (an absolute path such as "/tensors/role") exists.
  [[nodiscard]] bool exists(const std::string& object) const;
  // Whether the group or dataset `object` exists and has the attribute `name`.
  [[nodiscard]] bool has_attribute(const std::string& object, const std::string& name) const;
  // A scalar string attribute of a group or dataset.
  [[nodiscard]] std::string string_attribute(const std::string& object, const std::string& name) const;
  [[nodiscard]] std::int64_t integer_attribute(const std::string& object, const std::string& name) const;
  // A 1-D dataset, converted to the requested type (strings must be stored as strings).
  [[nodiscard]] std::vector<double> doubles(const std::string& dataset) const;
  [[nodiscard]] std::vector<float> floats(const std::string& dataset) const;
  [[nodiscard]] std::vector<std::int64_t> integers(const std::string& dataset) const;
  // Unsigned 64-bit integers (hashes, byte counts) without a detour through int64.
  [[nodiscard]] std::vector<std::uint64_t> unsigned_integers(const std::string& dataset) const;
  [[nodiscard]] std::vector<std::string> strings(const std::string& dataset) const;

 private:
  h5_reader(h5_id file, std::string label, std::size_t image_bytes)
      : file_(std::move(file)), label_(std::move(label)), image_bytes_(image_bytes) {}
  [[nodiscard]] h5_id open_dataset(const std::string& dataset, std::size_t& count) const;
  [[nodiscard]] h5_id open_attribute(const std::string& object, const std::string& name) const;

  h5_id file_;
  std::string label_;
  std::size_t image_bytes_ = 0;  // no dataset of ours holds more elements than the file has bytes
};

}  // namespace lineage
