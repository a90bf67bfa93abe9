#include "report/report_document.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"
#include "h5/h5_reader.hpp"
#include "report/report_json_read.hpp"
#include "report/report_writers.hpp"

namespace lineage {
namespace {

// Up to `width` characters of `text` from `at`, JSON-quoted (so control characters stay visible).
std::string excerpt(const std::string& text, std::size_t at, std::size_t width = 40) {
  const std::string part = at < text.size() ? text.substr(at, width) : std::string();
  return nlohmann::json(part).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The model must give back the stored text: a document lineage did not write (keys it does not
// know, numbers it would spell otherwise, figures that contradict each other) is refused rather
// than rendered from a model that does not say what the file says.
void check_round_trip(const comparison_report& model, const std::string& stored, const std::string& label) {
  std::string again;
  try {
    again = report_json_text(model);
  } catch (const nlohmann::json::exception& e) {
    throw input_error(fmt::format("{}: not a report this version of lineage writes ({})", label, e.what()));
  }
  if (again == stored) return;
  const auto [left, right] = std::mismatch(stored.begin(), stored.end(), again.begin(), again.end());
  const auto at = static_cast<std::size_t>(left - stored.begin());
  const std::size_t from = at < 20 ? 0 : at - 20;
  throw input_error(fmt::format(
      "{}: not a report this version of lineage writes (it differs from its own re-serialisation at byte {}: "
      "stored {}, re-serialised {})",
      label, at, excerpt(stored, from), excerpt(again, from)));
}

}  // namespace

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
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(text[0]);
  } catch (const nlohmann::json::exception& e) {
    throw fail(std::string("/report_json: not JSON: ") + e.what());
  }
  const std::string label = h5.label() + ": /report_json";
  document.model = report_from_json(parsed, label);
  check_round_trip(document.model, text[0], label);
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
