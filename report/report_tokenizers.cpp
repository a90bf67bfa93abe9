#include "report/report_tokenizers.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "report/h5_columns.hpp"

namespace lineage {
namespace {

using json = nlohmann::json;

std::vector<const tensor_result*> token_paired_tensors(const comparison_report& report) {
  std::vector<const tensor_result*> found;
  for (const auto& t : report.tensors)
    if (t.pair.pairing.find("shared tokens") != std::string::npos) found.push_back(&t);
  return found;
}

std::uint64_t tensor_rows(const planned_tensor& t) { return t.shape.empty() ? 0 : t.shape.front(); }

// The scalars of `object` as attributes of `group`, its objects as subgroups (examples aside: the
// JSON report has them).
void write_scalars(const h5_group& group, const json& object) {
  for (const auto& [key, value] : object.items()) {
    if (value.is_object()) {
      if (key != "examples") write_scalars(group.create_group(key), value);
    } else if (value.is_string()) {
      group.set_attribute(key, value.get<std::string>());
    } else if (value.is_boolean()) {
      group.set_attribute(key, static_cast<std::int64_t>(value.get<bool>()));
    } else if (value.is_number_integer()) {
      group.set_attribute(key, value.get<std::int64_t>());
    } else if (value.is_number() || value.is_null()) {
      group.set_attribute(key, value.is_null() ? NAN : value.get<double>());
    }
  }
}

}  // namespace

json tokenizers_object(const comparison_report& report) {
  json object = report.tokenizers.empty()
                    ? json{{"available", false}, {"reason", "the tokenizers were not read"}}
                    : json::parse(report.tokenizers);
  json pairing = json::array();
  for (const tensor_result* t : token_paired_tensors(report))
    pairing.push_back({{"role", t->pair.key.role},
                       {"layer", t->pair.key.layer},
                       {"name_a", t->pair.a.name},
                       {"name_b", t->pair.b.name},
                       {"pairing", t->pair.pairing},
                       {"rows", t->pair.rows_a.size()},
                       {"rows_a", tensor_rows(t->pair.a)},
                       {"rows_b", tensor_rows(t->pair.b)}});
  object["embedding_pairing"] = std::move(pairing);
  return object;
}

void write_tokenizers(const h5_group& root, const comparison_report& report) {
  const json object = tokenizers_object(report);
  const h5_group group = root.create_group("tokenizers");
  write_scalars(group, object);
  const auto rows = token_paired_tensors(report);
  const h5_group table = group.create_group("embedding_pairing");
  table.write_column("role", column(rows, [](const tensor_result* t) { return t->pair.key.role; }));
  table.write_column("layer", column(rows, [](const tensor_result* t) -> std::int64_t { return t->pair.key.layer; }));
  table.write_column("pairing", column(rows, [](const tensor_result* t) { return t->pair.pairing; }));
  table.write_column("rows", column(rows, [](const tensor_result* t) -> std::uint64_t { return t->pair.rows_a.size(); }));
  table.write_column("rows_a", column(rows, [](const tensor_result* t) { return tensor_rows(t->pair.a); }));
  table.write_column("rows_b", column(rows, [](const tensor_result* t) { return tensor_rows(t->pair.b); }));
}

}  // namespace lineage
