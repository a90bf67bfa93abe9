#pragma once
// A small checked layer over the HDF5 C API, in the manner of HighFive: every call is checked and a
// failure becomes lineage::hdf5_error naming the file and object; HDF5's own error printing is
// silenced. Only what the report needs: groups, 1-D column datasets, scalar attributes.
#include <hdf5.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace lineage {

// An HDF5 identifier closed by the right H5*close when it goes out of scope.
class h5_id {
 public:
  using closer = herr_t (*)(hid_t);
  h5_id() = default;
  h5_id(hid_t id, closer close) : id_(id), close_(close) {}
  h5_id(h5_id&& other) noexcept;
  h5_id& operator=(h5_id&& other) noexcept;
  h5_id(const h5_id&) = delete;
  h5_id& operator=(const h5_id&) = delete;
  ~h5_id();
  [[nodiscard]] hid_t get() const noexcept { return id_; }
  // Gives up ownership (the caller closes).
  [[nodiscard]] hid_t release() noexcept {
    const hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  closer close_ = nullptr;
};

class h5_group {
 public:
  h5_group(h5_id id, std::string path, std::string file_label)
      : id_(std::move(id)), path_(std::move(path)), file_(std::move(file_label)) {}

  [[nodiscard]] h5_group create_group(const std::string& name) const;

  void write_column(const std::string& name, std::span<const double> values) const;
  void write_column(const std::string& name, std::span<const std::int64_t> values) const;
  void write_column(const std::string& name, std::span<const std::uint64_t> values) const;
  void write_column(const std::string& name, const std::vector<std::string>& values) const;
  void write_column(const std::string& name, std::span<const std::int32_t> values) const;
  // Single precision (the registry's sketches: half the bytes of doubles).
  void write_column(const std::string& name, std::span<const float> values) const;
  // A rows × columns row-major matrix as a 2-D dataset.
  void write_matrix(const std::string& name, std::size_t rows, std::size_t columns,
                    std::span<const double> values) const;

  void set_attribute(const std::string& name, const std::string& value) const;
  void set_attribute(const std::string& name, std::int64_t value) const;
  void set_attribute(const std::string& name, double value) const;

 protected:
  [[nodiscard]] hid_t id() const noexcept { return id_.get(); }
  [[nodiscard]] std::string where(const std::string& name) const;
  void write_numeric(const std::string& name, hid_t type, const void* data, std::size_t count) const;
  void write_dataset(const std::string& name, hid_t type, hid_t space, const void* data, bool empty) const;

  h5_id id_;
  std::string path_;
  std::string file_;
};

// An HDF5 file built in memory (the "core" driver, no backing store) and handed over as bytes,
// which the caller writes with ordinary, checked file I/O. HDF5 never touches the disk, so a full
// disk or an unwritable directory is an ordinary write error rather than a half-closed HDF5 file.
class h5_file : public h5_group {
 public:
  // `label` names the file in error messages (normally its final path); `user_block` bytes at the
  // start are left as zeros for the caller (h5/h5_seal.hpp).
  static h5_file create_in_memory(const std::string& label, std::size_t user_block = 0);
  // Flushes, returns the complete file image and closes the file.
  [[nodiscard]] std::string close_to_image();

 private:
  using h5_group::h5_group;
};

}  // namespace lineage
