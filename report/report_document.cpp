#include "report/report_document.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "h5/h5_reader.hpp"
#include "report/report_json_read.hpp"

namespace lineage {

report_document read_report_document(const std::filesystem::path& report_h5) {
  const h5_reader h5 = h5_reader::open(report_h5);
  const auto fail = [&](const std::string& what) {
    return input_error(fmt::format("{}: {}", h5.label(), what));
  };
  if (!h5.exists("/report_json"))
    throw fail("/report_json: missing (not a report.h5 written by this version of lineage)");
  const std::vector<std::string> text = h5.strings("/report_json");
  if (text.size() != 1) throw fail(fmt::format("/report_json: expected one string, found {}", text.size()));
  report_document document;
  document.model = read_report_json(text[0], h5.label() + ": /report_json");
  const std::size_t tensors = document.model.tensors.size();
  const std::vector<std::int64_t> offsets = h5.integers("/nulls/offsets");
  const std::vector<double> pearson = h5.doubles("/nulls/pearson");
  if (offsets.size() != tensors + 1)
    throw fail(fmt::format("/nulls/offsets: {} entries for {} tensor pairs (expected {})", offsets.size(), tensors,
                           tensors + 1));
  document.pearson_null.resize(tensors);
  for (std::size_t t = 0; t < tensors; ++t) {
    const std::int64_t from = offsets[t], to = offsets[t + 1];
    if (from < 0 || to < from || static_cast<std::uint64_t>(to) > pearson.size())
      throw fail(fmt::format("/nulls/offsets: entry {} ({} to {}) does not fit /nulls/pearson of {} samples", t, from, to,
                             pearson.size()));
    document.pearson_null[t].assign(pearson.begin() + from, pearson.begin() + to);
  }
  return document;
}

}  // namespace lineage
