#include "h5/h5_file.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace lineage {
namespace {

// HDF5 prints a stack of errors to stderr by default; lineage reports one line of its own.
void silence_hdf5_errors() {
  static const bool silenced = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)silenced;
}

hid_t checked(hid_t id, const std::string& what) {
  if (id < 0) throw hdf5_error(what);
  return id;
}
void checked(herr_t status, const std::string& what) {
  if (status < 0) throw hdf5_error(what);
}

h5_id string_type() {
  h5_id type(checked(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
  checked(H5Tset_size(type.get(), H5T_VARIABLE), "H5Tset_size");
  checked(H5Tset_cset(type.get(), H5T_CSET_UTF8), "H5Tset_cset");
  return type;
}

h5_id column_space(std::size_t count) {
  const hsize_t dims[1] = {static_cast<hsize_t>(count)};
  return {checked(H5Screate_simple(1, dims, nullptr), "H5Screate_simple"), H5Sclose};
}

}  // namespace

h5_id::h5_id(h5_id&& other) noexcept : id_(other.id_), close_(other.close_) {
  other.id_ = H5I_INVALID_HID;
}

h5_id& h5_id::operator=(h5_id&& other) noexcept {
  if (this != &other) {
    if (id_ >= 0 && close_ != nullptr) close_(id_);
    id_ = other.id_;
    close_ = other.close_;
    other.id_ = H5I_INVALID_HID;
  }
  return *this;
}

h5_id::~h5_id() {
  if (id_ >= 0 && close_ != nullptr) close_(id_);
}

std::string h5_group::where(const std::string& name) const {
  return fmt::format("{}: {}/{}", file_, path_ == "/" ? "" : path_, name);
}

h5_group h5_group::create_group(const std::string& name) const {
  const hid_t group = H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  checked(group, where(name) + ": cannot create group");
  return {h5_id(group, H5Gclose), path_ == "/" ? "/" + name : path_ + "/" + name, file_};
}

void h5_group::write_dataset(const std::string& name, hid_t type, hid_t space, const void* data, bool empty) const {
  const h5_id dataset(checked(H5Dcreate2(id(), name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                              where(name) + ": cannot create dataset"),
                      H5Dclose);
  if (!empty)
    checked(H5Dwrite(dataset.get(), type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
            where(name) + ": cannot write dataset");
}

void h5_group::write_numeric(const std::string& name, hid_t type, const void* data,
                             std::size_t count) const {
  const h5_id space = column_space(count);
  write_dataset(name, type, space.get(), data, count == 0);
}

void h5_group::write_matrix(const std::string& name, std::size_t rows, std::size_t columns,
                            std::span<const double> values) const {
  if (values.size() != rows * columns) throw internal_error(where(name) + ": matrix size does not match its shape");
  const hsize_t dims[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(columns)};
  const h5_id space(checked(H5Screate_simple(2, dims, nullptr), "H5Screate_simple"), H5Sclose);
  write_dataset(name, H5T_NATIVE_DOUBLE, space.get(), values.data(), values.empty());
}

void h5_group::write_column(const std::string& name, std::span<const std::int32_t> values) const {
  write_numeric(name, H5T_NATIVE_INT32, values.data(), values.size());
}

void h5_group::write_column(const std::string& name, std::span<const float> values) const {
  write_numeric(name, H5T_NATIVE_FLOAT, values.data(), values.size());
}
void h5_group::write_column(const std::string& name, std::span<const double> values) const {
  write_numeric(name, H5T_NATIVE_DOUBLE, values.data(), values.size());
}
void h5_group::write_column(const std::string& name, std::span<const std::int64_t> values) const {
  write_numeric(name, H5T_NATIVE_INT64, values.data(), values.size());
}
void h5_group::write_column(const std::string& name, std::span<const std::uint64_t> values) const {
  write_numeric(name, H5T_NATIVE_UINT64, values.data(), values.size());
}

void h5_group::write_column(const std::string& name, const std::vector<std::string>& values) const {
  const h5_id type = string_type();
  const h5_id space = column_space(values.size());
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const auto& value : values) pointers.push_back(value.c_str());
  write_dataset(name, type.get(), space.get(), pointers.data(), values.empty());
}

void h5_group::set_attribute(const std::string& name, const std::string& value) const {
  const h5_id type = string_type();
  const h5_id space(checked(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
  const h5_id attribute(checked(H5Acreate2(id(), name.c_str(), type.get(), space.get(), H5P_DEFAULT,
                                           H5P_DEFAULT),
                                where(name) + ": cannot create attribute"),
                        H5Aclose);
  const char* text = value.c_str();
  checked(H5Awrite(attribute.get(), type.get(), &text), where(name) + ": cannot write attribute");
}

void h5_group::set_attribute(const std::string& name, std::int64_t value) const {
  const h5_id space(checked(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
  const h5_id attribute(checked(H5Acreate2(id(), name.c_str(), H5T_NATIVE_INT64, space.get(),
                                           H5P_DEFAULT, H5P_DEFAULT),
                                where(name) + ": cannot create attribute"),
                        H5Aclose);
  checked(H5Awrite(attribute.get(), H5T_NATIVE_INT64, &value), where(name) + ": cannot write attribute");
}

void h5_group::set_attribute(const std::string& name, double value) const {
  const h5_id space(checked(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
  const h5_id attribute(checked(H5Acreate2(id(), name.c_str(), H5T_NATIVE_DOUBLE, space.get(),
                                           H5P_DEFAULT, H5P_DEFAULT),
                                where(name) + ": cannot create attribute"),
                        H5Aclose);
  checked(H5Awrite(attribute.get(), H5T_NATIVE_DOUBLE, &value), where(name) + ": cannot write attribute");
}

h5_file h5_file::create_in_memory(const std::string& label, std::size_t user_block) {
  silence_hdf5_errors();
  const h5_id access(checked(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"), H5Pclose);
  constexpr std::size_t growth = std::size_t{1} << 20;
  checked(H5Pset_fapl_core(access.get(), growth, /*backing_store=*/0), label + ": H5Pset_fapl_core");
  const h5_id creation(checked(H5Pcreate(H5P_FILE_CREATE), "H5Pcreate"), H5Pclose);
  if (user_block != 0) checked(H5Pset_userblock(creation.get(), user_block), label + ": H5Pset_userblock");
  const hid_t file = H5Fcreate(label.c_str(), H5F_ACC_TRUNC, creation.get(), access.get());
  if (file < 0) throw hdf5_error(fmt::format("{}: cannot create the HDF5 image in memory", label));
  return h5_file(h5_id(file, H5Fclose), "/", label);
}

std::string h5_file::close_to_image() {
  checked(H5Fflush(id(), H5F_SCOPE_GLOBAL), file_ + ": cannot flush the HDF5 image");
  const ssize_t size = H5Fget_file_image(id(), nullptr, 0);
  if (size < 0) throw hdf5_error(file_ + ": cannot size the HDF5 image");
  std::string image(static_cast<std::size_t>(size), '\0');
  if (H5Fget_file_image(id(), image.data(), image.size()) != size)
    throw hdf5_error(file_ + ": cannot copy the HDF5 image");
  checked(H5Fclose(id_.release()), file_ + ": cannot close the HDF5 image");
  return image;
}

}  // namespace lineage
