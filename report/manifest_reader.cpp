#include "report/manifest_reader.hpp"

#include <fmt/format.h>

#include "core/content_hash.hpp"
#include "core/error.hpp"

namespace lineage {
namespace {

// Columns of one table must have as many rows as its first.
void expect_rows(const h5_reader& report, const std::string& table, std::size_t rows, std::size_t found,
                 const std::string& column) {
  if (found != rows)
    throw input_error(
        fmt::format("{}: {}/{}: {} rows, but the table has {}", report.label(), table, column, found, rows));
}

std::vector<recorded_tensor> read_tensors(const h5_reader& report, const std::string& table) {
  const auto names = report.strings(table + "/name");
  const auto dtypes = report.strings(table + "/dtype");
  const auto shapes = report.strings(table + "/shape");
  const auto bytes = report.unsigned_integers(table + "/bytes");
  const auto first = report.unsigned_integers(table + "/first_range");
  const auto counts = report.unsigned_integers(table + "/ranges");
  const auto digests = report.unsigned_integers(table + "/xxh3");
  const std::size_t rows = names.size();
  expect_rows(report, table, rows, dtypes.size(), "dtype");
  expect_rows(report, table, rows, shapes.size(), "shape");
  expect_rows(report, table, rows, bytes.size(), "bytes");
  expect_rows(report, table, rows, first.size(), "first_range");
  expect_rows(report, table, rows, counts.size(), "ranges");
  expect_rows(report, table, rows, digests.size(), "xxh3");
  std::vector<recorded_tensor> tensors(rows);
  for (std::size_t t = 0; t < rows; ++t)
    tensors[t] = {names[t], dtypes[t], shapes[t], bytes[t], first[t], counts[t], digests[t]};
  return tensors;
}

std::vector<recorded_range> read_ranges(const h5_reader& report, const std::string& table) {
  const auto tensor = report.unsigned_integers(table + "/tensor");
  const auto offset = report.unsigned_integers(table + "/offset");
  const auto length = report.unsigned_integers(table + "/length");
  const auto hash = report.unsigned_integers(table + "/xxh3");
  expect_rows(report, table, tensor.size(), offset.size(), "offset");
  expect_rows(report, table, tensor.size(), length.size(), "length");
  expect_rows(report, table, tensor.size(), hash.size(), "xxh3");
  std::vector<recorded_range> ranges(tensor.size());
  for (std::size_t k = 0; k < ranges.size(); ++k) ranges[k] = {tensor[k], offset[k], length[k], hash[k]};
  return ranges;
}

// Each tensor's ranges lie in the range table, name it, stay inside its bytes and combine to its
// digest; together they cover every byte of it.
void check_ranges(const h5_reader& report, const std::string& where, const recorded_model& model) {
  for (std::size_t t = 0; t < model.tensors.size(); ++t) {
    const recorded_tensor& tensor = model.tensors[t];
    const auto fail = [&](const std::string& what) {
      throw input_error(fmt::format("{}: {}: tensor '{}': {}", report.label(), where, tensor.name, what));
    };
    if (tensor.first_range > model.ranges.size() || tensor.range_count > model.ranges.size() - tensor.first_range)
      fail("its ranges lie outside the range table");
    std::vector<std::uint64_t> hashes;
    std::uint64_t covered = 0;  // [0, covered) is covered, ranges being in offset order
    for (std::uint64_t k = tensor.first_range; k < tensor.first_range + tensor.range_count; ++k) {
      const recorded_range& range = model.ranges[k];
      if (range.tensor != t) fail(fmt::format("range {} belongs to tensor row {}", k, range.tensor));
      if (range.length == 0 || range.offset > tensor.bytes || range.length > tensor.bytes - range.offset)
        fail(fmt::format("range {} (offset {}, {} bytes) lies outside its {} bytes", k, range.offset, range.length,
                         tensor.bytes));
      if (range.offset > covered) fail(fmt::format("bytes {} to {} lie in no range", covered, range.offset));
      covered = std::max(covered, range.offset + range.length);
      hashes.push_back(range.hash);
    }
    if (covered != tensor.bytes) fail(fmt::format("bytes {} to {} lie in no range", covered, tensor.bytes));
    if (combine_hashes(hashes) != tensor.digest) fail("its digest is not the combination of its ranges' hashes");
  }
}

std::vector<recorded_file> read_files(const h5_reader& report, const std::string& table) {
  const auto names = report.strings(table + "/name");
  const auto sizes = report.unsigned_integers(table + "/size");
  const auto sha256 = report.strings(table + "/sha256");
  expect_rows(report, table, names.size(), sizes.size(), "size");
  expect_rows(report, table, names.size(), sha256.size(), "sha256");
  std::vector<recorded_file> files(names.size());
  for (std::size_t f = 0; f < files.size(); ++f) {
    const bool hex = sha256[f].size() == 64 && sha256[f].find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!sha256[f].empty() && !hex)
      throw input_error(
          fmt::format("{}: {}/sha256: row {} ('{}') is not 64 hex digits", report.label(), table, f, names[f]));
    if (names[f].empty() || names[f].front() == '/' || names[f].find("..") != std::string::npos)
      throw input_error(fmt::format("{}: {}/name: row {} ('{}') is not a name inside a model directory", report.label(),
                                    table, f, names[f]));
    files[f] = {names[f], sizes[f], sha256[f]};
  }
  return files;
}

}  // namespace

recorded_model read_recorded_model(const h5_reader& report, char side) {
  if (side != 'a' && side != 'b') throw usage_error(fmt::format("--side: must be a or b, got '{}'", side));
  const bool digests = report.has_attribute("/manifest", "content_digests") &&
                       report.integer_attribute("/manifest", "content_digests") == 1;
  if (!digests)
    throw input_error(
        fmt::format("{}: /manifest holds no tensor digests (a report of an older lineage?)", report.label()));
  const std::string group = fmt::format("/manifest/model_{}", side);
  recorded_model model;
  model.side = side;
  model.path = report.string_attribute(group, "path");
  model.tensors = read_tensors(report, group + "/tensors");
  model.ranges = read_ranges(report, group + "/ranges");
  model.files = read_files(report, group + "/checkpoint_files");
  check_ranges(report, group, model);
  return model;
}

}  // namespace lineage
