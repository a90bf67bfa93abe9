#include "h5/h5_reader.hpp"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <memory>

#include "core/error.hpp"
#include "h5/h5_seal.hpp"

namespace lineage {
namespace {

// The reader's files are the user's: a failed call is bad input, named by `what`.
hid_t checked_input(hid_t id, const std::string& what) {
  if (id < 0) throw input_error(what);
  return id;
}

std::string read_whole_file(const std::filesystem::path& path, const std::string& label) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw input_error(fmt::format("{}: cannot open for reading", label));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

h5_reader h5_reader::open(const std::filesystem::path& path) {
  const std::string label = path.string();
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error))
    throw input_error(fmt::format("{}: no such file", label));
  return open_bytes(read_whole_file(path, label), label);
}

h5_reader h5_reader::open_bytes(const std::string& file_bytes, const std::string& label) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  // libhdf5 parses only the bytes whose seal was checked: from memory, not from the file again.
  const std::string_view image = check_h5_seal(file_bytes, label);
  const h5_id access(checked_input(H5Pcreate(H5P_FILE_ACCESS), label + ": H5Pcreate"), H5Pclose);
  checked_input(H5Pset_fapl_core(access.get(), std::size_t{1} << 20, /*backing_store=*/0),
                label + ": H5Pset_fapl_core");
  // libhdf5 finds the superblock after the seal block, so it is given the whole file.
  checked_input(H5Pset_file_image(access.get(), const_cast<char*>(file_bytes.data()), file_bytes.size()),
                label + ": H5Pset_file_image");
  // The core driver refuses a name that exists on disk when it is given an image: any other name.
  const std::string image_name = label + " (sealed image in memory)";
  const hid_t file = H5Fopen(image_name.c_str(), H5F_ACC_RDONLY, access.get());
  return {h5_id(checked_input(file, fmt::format("{}: cannot open as HDF5", label)), H5Fclose), label, image.size()};
}

bool h5_reader::exists(const std::string& object) const {
  // Every parent must exist before H5Lexists may be asked about the child.
  std::size_t from = 1;
  while (from <= object.size()) {
    const std::size_t slash = object.find('/', from);
    const std::string prefix = object.substr(0, slash);
    if (H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) break;
    from = slash + 1;
  }
  return true;
}

h5_id h5_reader::open_dataset(const std::string& dataset, std::size_t& count) const {
  const std::string where = fmt::format("{}: {}", label_, dataset);
  if (!exists(dataset)) throw input_error(where + ": missing");
  h5_id id(checked_input(H5Dopen2(file_.get(), dataset.c_str(), H5P_DEFAULT), where + ": not a dataset"),
           H5Dclose);
  const h5_id space(checked_input(H5Dget_space(id.get()), where + ": no dataspace"), H5Sclose);
  if (H5Sget_simple_extent_ndims(space.get()) != 1) throw input_error(where + ": not a 1-D column");
  hsize_t dims[1] = {0};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  // A declared extent is not storage: lineage writes no compressed or fill-only datasets, so a column
  // claiming more elements than the file has bytes is a lie that would only make the reader allocate.
  if (dims[0] > image_bytes_)
    throw input_error(fmt::format("{}: declares {} elements, more than the file's {} bytes", where, dims[0], image_bytes_));
  count = static_cast<std::size_t>(dims[0]);
  return id;
}

bool h5_reader::has_attribute(const std::string& object, const std::string& name) const {
  return exists(object) && H5Aexists_by_name(file_.get(), object.c_str(), name.c_str(), H5P_DEFAULT) > 0;
}

h5_id h5_reader::open_attribute(const std::string& object, const std::string& name) const {
  const std::string where = fmt::format("{}: {} attribute '{}'", label_, object, name);
  if (!has_attribute(object, name)) throw input_error(where + ": missing");
  return {checked_input(H5Aopen_by_name(file_.get(), object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                        where + ": unreadable"),
          H5Aclose};
}

std::string h5_reader::string_attribute(const std::string& object, const std::string& name) const {
  const std::string where = fmt::format("{}: {} attribute '{}'", label_, object, name);
  const h5_id attribute = open_attribute(object, name);
  const h5_id type(checked_input(H5Aget_type(attribute.get()), where), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) <= 0)
    throw input_error(where + ": not a string");
  char* text = nullptr;
  if (H5Aread(attribute.get(), type.get(), &text) < 0 || text == nullptr) throw input_error(where + ": unreadable");
  std::string value(text);
  H5free_memory(text);
  return value;
}

std::int64_t h5_reader::integer_attribute(const std::string& object, const std::string& name) const {
  const std::string where = fmt::format("{}: {} attribute '{}'", label_, object, name);
  const h5_id attribute = open_attribute(object, name);
  const h5_id type(checked_input(H5Aget_type(attribute.get()), where), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_INTEGER) throw input_error(where + ": not an integer");
  std::int64_t value = 0;
  if (H5Aread(attribute.get(), H5T_NATIVE_INT64, &value) < 0) throw input_error(where + ": unreadable");
  return value;
}

namespace {

template <typename Value>
std::vector<Value> read_numbers(hid_t dataset, std::size_t count, hid_t memory_type, H5T_class_t want,
                                const std::string& where) {
  const h5_id type(checked_input(H5Dget_type(dataset), where), H5Tclose);
  const H5T_class_t stored = H5Tget_class(type.get());
  if (stored != want && !(want == H5T_FLOAT && stored == H5T_INTEGER))
    throw input_error(where + (want == H5T_FLOAT ? ": not numeric" : ": not integers"));
  std::vector<Value> values(count);
  if (count > 0 && H5Dread(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0)
    throw input_error(where + ": unreadable");
  return values;
}

}  // namespace

std::vector<double> h5_reader::doubles(const std::string& dataset) const {
  std::size_t count = 0;
  const h5_id id = open_dataset(dataset, count);
  return read_numbers<double>(id.get(), count, H5T_NATIVE_DOUBLE, H5T_FLOAT, fmt::format("{}: {}", label_, dataset));
}

std::vector<float> h5_reader::floats(const std::string& dataset) const {
  std::size_t count = 0;
  const h5_id id = open_dataset(dataset, count);
  return read_numbers<float>(id.get(), count, H5T_NATIVE_FLOAT, H5T_FLOAT, fmt::format("{}: {}", label_, dataset));
}

std::vector<std::int64_t> h5_reader::integers(const std::string& dataset) const {
  std::size_t count = 0;
  const h5_id id = open_dataset(dataset, count);
  return read_numbers<std::int64_t>(id.get(), count, H5T_NATIVE_INT64, H5T_INTEGER,
                                    fmt::format("{}: {}", label_, dataset));
}

std::vector<std::uint64_t> h5_reader::unsigned_integers(const std::string& dataset) const {
  const std::string where = fmt::format("{}: {}", label_, dataset);
  std::size_t count = 0;
  const h5_id id = open_dataset(dataset, count);
  const h5_id type(checked_input(H5Dget_type(id.get()), where), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_INTEGER || H5Tget_sign(type.get()) != H5T_SGN_NONE)
    throw input_error(where + ": not unsigned integers");
  return read_numbers<std::uint64_t>(id.get(), count, H5T_NATIVE_UINT64, H5T_INTEGER, where);
}

std::vector<std::string> h5_reader::strings(const std::string& dataset) const {
  const std::string where = fmt::format("{}: {}", label_, dataset);
  std::size_t count = 0;
  const h5_id id = open_dataset(dataset, count);
  const h5_id type(checked_input(H5Dget_type(id.get()), where), H5Tclose);
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) <= 0)
    throw input_error(where + ": not a column of strings");
  std::vector<char*> pointers(count, nullptr);
  if (count > 0 && H5Dread(id.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()) < 0)
    throw input_error(where + ": unreadable");
  std::vector<std::string> values;
  values.reserve(count);
  for (char* text : pointers) {
    values.emplace_back(text != nullptr ? text : "");
    H5free_memory(text);
  }
  return values;
}

}  // namespace lineage
