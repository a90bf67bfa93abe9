#include <fmt/format.h>

#include <algorithm>

#include "core/error.hpp"
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

comparison_report read_report_json(const std::string& text, const std::string& label) {
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw input_error(fmt::format("{}: not JSON: {}", label, e.what()));
  }
  comparison_report model = report_from_json(parsed, label);
  check_round_trip(model, text, label);
  return model;
}

}  // namespace lineage
