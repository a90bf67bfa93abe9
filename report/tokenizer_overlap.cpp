#include "report/tokenizer_overlap.hpp"

#include <limits>

#include <nlohmann/json.hpp>

#include "report/report_tokenizers.hpp"

namespace lineage {
namespace {

using json = nlohmann::json;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

std::optional<std::int64_t> count_of(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

double number_of(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : nan;
}

std::string text_of(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

tokenizer_overlap read_tokenizer_overlap(const comparison_report& report) {
  const json object = tokenizers_object(report);
  tokenizer_overlap out;
  if (!object.is_object()) return out;
  const auto available = object.find("available");
  out.available = available != object.end() && available->is_boolean() && available->get<bool>();
  out.reason = text_of(object, "reason");
  out.note = text_of(object, "note");
  out.size_a = count_of(object, "size_a");
  out.size_b = count_of(object, "size_b");
  out.shared = count_of(object, "shared");
  out.same_id = count_of(object, "same_id");
  out.jaccard = number_of(object, "jaccard");
  out.merge_rank_spearman = number_of(object, "merge_rank_spearman");
  return out;
}

std::string count_text(const std::optional<std::int64_t>& count) { return count ? std::to_string(*count) : "–"; }

double count_value(const std::optional<std::int64_t>& count) { return count ? static_cast<double>(*count) : nan; }

}  // namespace lineage
